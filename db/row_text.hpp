#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db/table_spec.hpp"
#include "messages/event.hpp"

namespace vigil {

/// A database sink's rows travel as lines of PostgreSQL's COPY text
/// format: fields separated by tabs, NULL as \N, and backslash, tab,
/// newline and carriage return escaped. PostgreSQL takes them as they are
/// (COPY ... FROM STDIN); SQLite's writer splits them (`split_row_text`).

/// Appends `text` as one COPY field, escaped.
void append_row_field(std::string& out, std::string_view text);

/// Record `row` of `b` as a row of `columns` (layout indexes): times RFC
/// 3339 UTC, booleans true/false, numbers shortest round-trip.
std::string record_row_text(const std::vector<size_t>& columns, const event_batch& b, size_t row);

/// A window result's JSON line (window/window_engine `to_json`) as a row
/// of `t` (window_table). False with `error` on a line that is not one.
bool window_row_text(const table_spec& t, std::string_view json_line, std::string& out, std::string& error);

/// The fields of one row line: views into the line, or into `scratch`
/// where a field had escapes; `null[i]` for \N.
struct row_fields {
  std::vector<std::string_view> values;
  std::vector<bool> null;
  std::string scratch;
};

/// Splits and unescapes `line` into `out` (reused between rows).
void split_row_text(std::string_view line, row_fields& out);

} // namespace vigil
