#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "expr/expression.hpp"
#include "messages/event.hpp"
#include "record/record_layout.hpp"
#include "settings/config.hpp"

namespace vigil {

/// A field's value as text (grouping, lookup keys, CSV): strings as they
/// are, integers in decimal, numbers shortest round-trip, times RFC 3339,
/// null as "". Strings made go to `scratch`.
std::string_view value_text(const field_value& v, std::string_view batch_text, std::string& scratch);

/// Appends the value as JSON (times as RFC 3339 strings, null as null).
void append_value_json(std::string& out, const field_value& v, std::string_view batch_text);

/// Record `row` of `b` as one JSON object: its non-null fields in layout
/// order, then the unknown fields it kept, then `_arrival_time` when its
/// time is the time it was read.
std::string record_json(const record_layout& layout, const event_batch& b, size_t row);

/// Record `row` of `b` as one CSV line (RFC 4180 quoting) of `columns`
/// (layout indexes).
std::string record_csv(const std::vector<size_t>& columns, const event_batch& b, size_t row);

/// The lines a record sink takes: its route's records (every record with
/// route -1), as JSON, as CSV of `columns` (layout indexes), or as
/// database rows of `columns` (db/row_text: COPY text).
struct record_line_format {
  enum class kind : uint8_t { json, csv, row };
  int route = -1;
  kind as = kind::json;
  std::vector<size_t> columns;
};

/// The layout indexes a CSV sink writes: its columns, or every field.
std::vector<size_t> record_columns(const sink_config& s, const record_layout& layout);

/// The record sinks of `cfg` (`input = "records"` or `"records:ROUTE"`), in
/// config order: the window stage's record outputs, and what the parse
/// stages format for them.
std::vector<record_line_format> record_line_formats(const vigil_config& cfg, const record_layout& layout);

/// Appends the lines of `b`'s records that `f` takes, in row order.
void append_record_lines(const record_line_format& f, const record_layout& layout, const event_batch& b,
                         std::vector<std::string>& lines);

/// An expression's view of a record: variable slots are layout indexes.
class record_scope : public expr::scope {
public:
  record_scope(const field_value* row, std::string_view batch_text) : row_(row), text_(batch_text) {}
  expr::value get(int slot) const override;

private:
  const field_value* row_;
  std::string_view text_;
};

/// The names of a layout for the expression compiler.
expr::names layout_names(const record_layout& layout, absl::TimeZone zone = absl::UTCTimeZone());

} // namespace vigil
