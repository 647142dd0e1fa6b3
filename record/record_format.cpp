#include "record/record_format.hpp"

#include <charconv>
#include <cstdio>

#include "csv/csv.hpp"
#include "db/database_sink.hpp"
#include "db/row_text.hpp"
#include "json/json_text.hpp"
#include "parse/timestamp.hpp"

namespace vigil {

std::string_view value_text(const field_value& v, std::string_view batch_text, std::string& scratch) {
  switch (v.kind) {
    case value_kind::null: return {};
    case value_kind::text: return batch_text.substr(v.text.offset, v.text.length);
    case value_kind::boolean: return v.bits ? "true" : "false";
    case value_kind::integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.bits);
      scratch.assign(buf, r.ptr);
      return scratch;
    }
    case value_kind::number:
      scratch.clear();
      append_json_number(scratch, v.number());
      return scratch;
    case value_kind::time:
      scratch.clear();
      append_rfc3339_utc(scratch, v.bits);
      return scratch;
  }
  return {};
}

void append_value_json(std::string& out, const field_value& v, std::string_view batch_text) {
  switch (v.kind) {
    case value_kind::null: out += "null"; return;
    case value_kind::text: append_json_string(out, batch_text.substr(v.text.offset, v.text.length)); return;
    case value_kind::boolean: out += v.bits ? "true" : "false"; return;
    case value_kind::integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.bits);
      out.append(buf, r.ptr);
      return;
    }
    case value_kind::number: append_json_number(out, v.number()); return;
    case value_kind::time:
      out += '"';
      append_rfc3339_utc(out, v.bits);
      out += '"';
      return;
  }
}

std::string record_json(const record_layout& layout, const event_batch& b, size_t row) {
  const field_value* values = b.records.row(row);
  const record_info& info = b.records.rows[row];
  std::string out;
  out.reserve(256);
  out += '{';
  bool first = true;
  for (size_t i = 0; i < layout.size() && i < b.records.width; ++i) {
    if (values[i].is_null()) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, layout.fields()[i].name);
    out += ':';
    append_value_json(out, values[i], b.text);
  }
  if (!info.extras.empty()) {
    if (!first) out += ',';
    first = false;
    out.append(b.view(info.extras));
  }
  if (info.arrival_time) {
    if (!first) out += ',';
    out += "\"_arrival_time\":\"";
    append_rfc3339_utc(out, info.time_ms);
    out += '"';
  }
  out += '}';
  return out;
}

std::string record_csv(const std::vector<size_t>& columns, const event_batch& b, size_t row) {
  const field_value* values = b.records.row(row);
  std::string out, scratch;
  for (size_t k = 0; k < columns.size(); ++k) {
    if (k > 0) out += ',';
    if (columns[k] < b.records.width) append_csv_field(out, value_text(values[columns[k]], b.text, scratch));
  }
  return out;
}

std::vector<size_t> record_columns(const sink_config& s, const record_layout& layout) {
  std::vector<size_t> out;
  if (s.columns.empty())
    for (size_t i = 0; i < layout.size(); ++i) out.push_back(i);
  for (const auto& c : s.columns)
    if (auto i = layout.index_of(c)) out.push_back(*i);
  return out;
}

std::vector<record_line_format> record_line_formats(const vigil_config& cfg, const record_layout& layout) {
  std::vector<record_line_format> out;
  for (const auto& s : cfg.sinks) {
    if (s.input != sink_input::records) continue;
    record_line_format f;
    for (size_t r = 0; r < cfg.routes.size(); ++r)
      if (cfg.routes[r].name == s.route) f.route = static_cast<int>(r);
    if (s.type == sink_type::csv) f.as = record_line_format::kind::csv;
    if (is_database_sink(s)) f.as = record_line_format::kind::row;
    if (f.as != record_line_format::kind::json) f.columns = record_columns(s, layout);
    out.push_back(std::move(f));
  }
  return out;
}

void append_record_lines(const record_line_format& f, const record_layout& layout, const event_batch& b,
                         std::vector<std::string>& lines) {
  for (size_t k = 0; k < b.records.size(); ++k) {
    const record_info& info = b.records.rows[k];
    if (!info.is_record() || (f.route >= 0 && !(info.routes & (1u << f.route)))) continue;
    switch (f.as) {
      case record_line_format::kind::json: lines.push_back(record_json(layout, b, k)); break;
      case record_line_format::kind::csv: lines.push_back(record_csv(f.columns, b, k)); break;
      case record_line_format::kind::row: lines.push_back(record_row_text(f.columns, b, k)); break;
    }
  }
}

expr::value record_scope::get(int slot) const {
  const field_value& v = row_[slot];
  switch (v.kind) {
    case value_kind::null: return expr::value::null();
    case value_kind::boolean: return expr::value::boolean(v.bits != 0);
    case value_kind::integer: return expr::value::number(static_cast<double>(v.bits));
    case value_kind::number: return expr::value::number(v.number());
    case value_kind::time: return expr::value::time(static_cast<double>(v.bits));
    case value_kind::text: return expr::value::string(text_.substr(v.text.offset, v.text.length));
  }
  return expr::value::null();
}

expr::names layout_names(const record_layout& layout, absl::TimeZone zone) {
  expr::names n;
  n.variable = [&layout](std::string_view name) -> std::optional<int> {
    if (auto i = layout.index_of(name)) return static_cast<int>(*i);
    return std::nullopt;
  };
  n.known = layout.listing();
  n.zone = zone;
  return n;
}

} // namespace vigil
