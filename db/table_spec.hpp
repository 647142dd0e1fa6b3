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

} // namespace vigil
