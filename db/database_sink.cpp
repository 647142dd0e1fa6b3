#include "db/database_sink.hpp"

#include "db/postgres_writer.hpp"
#include "db/sqlite_writer.hpp"
#include "record/record_layout.hpp"

namespace vigil {

table_spec database_table(const vigil_config& cfg, const sink_config& s) {
  if (s.input == sink_input::window) return window_table(cfg, s);
  return record_table(cfg, s, record_layout::of(cfg));
}

std::unique_ptr<db_writer> make_database_writer(const sink_config& s, const table_spec& spec, const std::string& node) {
  db_target target{node, s.name, s.create_table};
  if (s.type == sink_type::postgres) return make_postgres_writer(s.dsn, spec, std::move(target));
  return make_sqlite_writer(s.path, spec, std::move(target));
}

std::string database_target(const sink_config& s) {
  table_spec table;  // the writer's own words; it connects only when asked
  table.table = s.table.empty() ? s.name : s.table;
  return make_database_writer(s, table, "")->describe();
}

bool read_database_progress(const vigil_config& cfg, const sink_config& s, int64_t& rows, std::string& error) {
  auto writer = make_database_writer(s, database_table(cfg, s), cfg.node.name);
  db_progress p;
  if (!writer->read_progress(p, error)) return false;
  rows = p.rows;
  return true;
}

} // namespace vigil
