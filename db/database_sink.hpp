#pragma once

#include <memory>
#include <string>

#include "db/db_writer.hpp"
#include "db/table_spec.hpp"
#include "settings/config.hpp"

namespace vigil {

/// A sqlite or postgres [[sink]]: one of the sinks this folder writes.
inline bool is_database_sink(const sink_config& s) {
  return s.type == sink_type::sqlite || s.type == sink_type::postgres;
}

/// The table a sqlite or postgres [[sink]] writes: of records
/// (record_table) or of window results (window_table).
table_spec database_table(const vigil_config& cfg, const sink_config& s);

/// A connection for the sink (not yet connected).
std::unique_ptr<db_writer> make_database_writer(const sink_config& s, const table_spec& spec, const std::string& node);

/// "sqlite var/orders.db table orders" / "postgres host ... table orders":
/// where the sink writes, for logs and the state's config lines (never a
/// password).
std::string database_target(const sink_config& s);

/// The sink's progress in its database now (connecting once): the rows
/// of its stream there. False with `error` when the database cannot say.
bool read_database_progress(const vigil_config& cfg, const sink_config& s, int64_t& rows, std::string& error);

} // namespace vigil
