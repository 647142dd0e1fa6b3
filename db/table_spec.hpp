#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "record/record_layout.hpp"
#include "settings/config.hpp"

namespace vigil {

/// The SQL type of a column a database sink writes, mapped per database
/// (`sql_type_name`).
enum class column_type : uint8_t { text, integer, real, boolean, timestamp, json };

struct table_column {
  std::string name;
  column_type type = column_type::text;
};

/// The table a database sink writes: its columns in order, and the
/// columns a row is identified by (upserts; empty: plain inserts).
struct table_spec {
  std::string table;
  std::vector<table_column> columns;
  std::vector<size_t> key;  ///< indexes into `columns`
  /// Records: the layout index of each column, for formatting rows.
  std::vector<size_t> layout_columns;
  /// Window results: the group_by fields, then the metrics, by name, as
  /// the window result's JSON names them (after window_start, window_end).
  std::vector<std::string> group_fields, metric_names;
};

/// The table of a sink of records: `columns` (or every record field),
/// typed by the schema (transforms by their `type`, lookups as text).
table_spec record_table(const vigil_config& cfg, const sink_config& s, const record_layout& layout);

/// The table of a sink of window results: window_start, window_end, the
/// group_by fields (text), then the window's metrics; keyed on
/// (window_start, group).
table_spec window_table(const vigil_config& cfg, const sink_config& s);

/// The column's type in PostgreSQL ("timestamptz") or SQLite ("TEXT").
const char* sql_type_name(column_type t, bool postgres);

/// `name` as a quoted SQL identifier ("order_id", with '"' doubled).
std::string quote_identifier(const std::string& name);

/// The statements that make `table` (columns `have`, empty: no table yet)
/// hold every column of `t`: a CREATE TABLE with its types and key, or an
/// ALTER TABLE ADD COLUMN per missing column. Without `create_table`,
/// false with `error` naming what is missing.
bool table_changes(const table_spec& t, const std::vector<std::string>& have, bool create_table, bool postgres,
                   std::vector<std::string>& statements, std::string& error);

/// CREATE TABLE IF NOT EXISTS for the sinks' own tables, in the
/// database's types: vigil_sink_progress (where each sink stands) and
/// vigil_sink_rejects (the rows the database refused).
std::vector<std::string> sink_tables_sql(bool postgres);

/// The quoted column names, comma-separated ("a", "b").
std::string column_list(const table_spec& t);

/// INSERT INTO table (columns) VALUES (`values`), and for a keyed table
/// ON CONFLICT (key) DO UPDATE SET every other column (DO NOTHING when
/// the key is every column): SQL that SQLite and PostgreSQL both take.
std::string upsert_sql(const table_spec& t, const std::string& values);

/// " ON CONFLICT (key) DO UPDATE SET ..." of a keyed table ("" without a key).
std::string conflict_clause(const table_spec& t);

} // namespace vigil
