#include "db/table_spec.hpp"

#include <algorithm>

#include "record/record_format.hpp"
#include "rules/metric_names.hpp"
#include "window/declared_metrics.hpp"

namespace vigil {

namespace {

column_type column_of(field_type t) {
  switch (t) {
    case field_type::integer: return column_type::integer;
    case field_type::number: return column_type::real;
    case field_type::boolean: return column_type::boolean;
    case field_type::timestamp: return column_type::timestamp;
    case field_type::string:
    case field_type::enumeration: return column_type::text;
  }
  return column_type::text;
}

} // namespace

table_spec record_table(const vigil_config& cfg, const sink_config& s, const record_layout& layout) {
  table_spec t;
  t.table = s.table.empty() ? s.name : s.table;
  t.layout_columns = record_columns(s, layout);
  for (size_t i : t.layout_columns) {
    const auto& f = layout.fields()[i];
    table_column c{f.name, column_type::text};
    if (f.from == record_layout::origin::schema) c.type = column_of(f.type);
    if (f.from == record_layout::origin::transform)
      for (const auto& x : cfg.transforms)
        if (x.name == f.name && x.type) c.type = column_of(*x.type);
    t.columns.push_back(std::move(c));
  }
  for (const auto& k : s.key)
    for (size_t i = 0; i < t.columns.size(); ++i)
      if (t.columns[i].name == k) t.key.push_back(i);
  return t;
}

table_spec window_table(const vigil_config& cfg, const sink_config& s) {
  table_spec t;
  t.table = s.table.empty() ? s.name : s.table;
  t.columns.push_back({"window_start", column_type::timestamp});
  t.columns.push_back({"window_end", column_type::timestamp});
  t.key.push_back(0);
  auto w = std::find_if(cfg.windows.begin(), cfg.windows.end(), [&](const auto& x) { return x.name == s.window; });
  if (w == cfg.windows.end()) return t;
  for (const auto& g : w->group_by) {
    t.key.push_back(t.columns.size());
    t.columns.push_back({g, column_type::text});
    t.group_fields.push_back(g);
  }
  if (w->metrics.empty()) {
    for (const auto& m : window_metric_names()) {
      t.columns.push_back({m, column_type::real});
      t.metric_names.push_back(m);
    }
    return t;
  }
  std::string error;
  auto plan = metric_plan::compile(w->metrics, record_layout::of(cfg), error);
  for (const auto& [name, expr] : w->metrics) {
    bool list = false;
    if (plan)
      if (auto i = plan->index_of(name)) list = plan->metrics()[*i].top >= 0;
    t.columns.push_back({name, list ? column_type::json : column_type::real});
    t.metric_names.push_back(name);
  }
  return t;
}

const char* sql_type_name(column_type t, bool postgres) {
  switch (t) {
    case column_type::text: return "TEXT";
    case column_type::integer: return postgres ? "BIGINT" : "INTEGER";
    case column_type::real: return postgres ? "DOUBLE PRECISION" : "REAL";
    case column_type::boolean: return postgres ? "BOOLEAN" : "INTEGER";
    case column_type::timestamp: return postgres ? "TIMESTAMPTZ" : "TEXT";
    case column_type::json: return postgres ? "JSONB" : "TEXT";
  }
  return "TEXT";
}

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::vector<std::string> sink_tables_sql(bool postgres) {
  const std::string count = postgres ? "BIGINT" : "INTEGER";
  const std::string time = postgres ? "TIMESTAMPTZ NOT NULL DEFAULT now()" : "TEXT NOT NULL";
  const std::string owner = "node TEXT NOT NULL, sink TEXT NOT NULL, table_name TEXT NOT NULL, ";
  return {"CREATE TABLE IF NOT EXISTS vigil_sink_progress (" + owner + "rows_written " + count +
            " NOT NULL, checkpoint_id " + count + " NOT NULL, updated_at " + time +
            ", PRIMARY KEY (node, sink, table_name))",
          "CREATE TABLE IF NOT EXISTS vigil_sink_rejects (" + owner + "row_position " + count +
            " NOT NULL, error TEXT NOT NULL, row_text TEXT NOT NULL, rejected_at " + time +
            ", PRIMARY KEY (node, sink, table_name, row_position))"};
}

std::string column_list(const table_spec& t) {
  std::string out;
  for (size_t i = 0; i < t.columns.size(); ++i) out += (i ? ", " : "") + quote_identifier(t.columns[i].name);
  return out;
}

std::string conflict_clause(const table_spec& t) {
  if (t.key.empty()) return "";
  std::string keys, updates;
  for (size_t k = 0; k < t.key.size(); ++k) keys += (k ? ", " : "") + quote_identifier(t.columns[t.key[k]].name);
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (std::find(t.key.begin(), t.key.end(), i) == t.key.end())
      updates += (updates.empty() ? "" : ", ") + quote_identifier(t.columns[i].name) + " = EXCLUDED." +
                 quote_identifier(t.columns[i].name);
  return " ON CONFLICT (" + keys + ")" + (updates.empty() ? " DO NOTHING" : " DO UPDATE SET " + updates);
}

std::string upsert_sql(const table_spec& t, const std::string& values) {
  return "INSERT INTO " + quote_identifier(t.table) + " (" + column_list(t) + ") " + values + conflict_clause(t);
}

bool table_changes(const table_spec& t, const std::vector<std::string>& have, bool create_table, bool postgres,
                   std::vector<std::string>& statements, std::string& error) {
  const std::string table = quote_identifier(t.table);
  if (have.empty()) {
    if (!create_table) {
      error = "no table " + t.table + " (create_table = false)";
      return false;
    }
    std::string sql = "CREATE TABLE IF NOT EXISTS " + table + " (";
    for (size_t i = 0; i < t.columns.size(); ++i)
      sql += (i ? ", " : "") + quote_identifier(t.columns[i].name) + " " + sql_type_name(t.columns[i].type, postgres);
    if (!t.key.empty()) {
      sql += ", PRIMARY KEY (";
      for (size_t k = 0; k < t.key.size(); ++k) sql += (k ? ", " : "") + quote_identifier(t.columns[t.key[k]].name);
      sql += ")";
    }
    statements.push_back(sql + ")");
    return true;
  }
  for (const auto& c : t.columns) {
    if (std::find(have.begin(), have.end(), c.name) != have.end()) continue;
    if (!create_table) {
      error = "table " + t.table + " has no column " + c.name + " (create_table = false: add it, or let vigil)";
      return false;
    }
    statements.push_back("ALTER TABLE " + table + " ADD COLUMN " + quote_identifier(c.name) + " " +
                         sql_type_name(c.type, postgres));
  }
  return true;
}

} // namespace vigil
