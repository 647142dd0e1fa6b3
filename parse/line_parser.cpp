#include "parse/line_parser.hpp"

#include <cstring>

#include <simdjson.h>

namespace vigil {

line_parser::line_parser(const parser_options& opts)
  : opts_(opts), json_(opts.fields, opts.request_time_unit) {}

line_counts line_parser::parse(log_format format, size_t size, event_batch& batch,
                               std::vector<line_failure>& failures) {
  line_counts counts;
  clf_options clf;
  clf.expect_agent = format != log_format::common;
  clf.request_time_unit = opts_.request_time_unit;
  // Valid UTF-8 is the norm: check the whole span once, lines only if not.
  const bool all_utf8 = simdjson::validate_utf8(batch.text.data(), size);

  size_t pos = 0;
  uint32_t line_no = 0;
  while (pos < size) {
    const char* text = batch.text.data();  // JSON unescaping may reallocate
    auto nl = static_cast<const char*>(std::memchr(text + pos, '\n', size - pos));
    size_t end = nl ? static_cast<size_t>(nl - text) : size;
    size_t len = end - pos;
    if (len > 0 && text[pos + len - 1] == '\r') --len;
    const auto base = static_cast<uint32_t>(pos);
    const uint32_t this_line = line_no++;
    pos = end + 1;
    if (len == 0) {
      ++counts.empty_lines;
      continue;
    }
    ++counts.lines;
    std::string_view line(text + base, len);
    parse_error err = parse_error::none;
    if (len > opts_.max_line_bytes) {
      err = parse_error::too_long;
      len = opts_.max_line_bytes;
    } else if (!all_utf8 && !simdjson::validate_utf8(line.data(), line.size())) {
      err = parse_error::not_utf8;
    } else {
      log_event& ev = batch.events.emplace_back();
      err = format == log_format::json ? json_.parse(line, base, batch, ev)
                                       : parse_clf_line(line, base, clf, times_, ev);
      if (err == parse_error::none) {
        ev.line = this_line;
        ev.raw = text_ref{base, static_cast<uint32_t>(len)};
        continue;
      }
      batch.events.pop_back();
    }
    failures.push_back({this_line, err, text_ref{base, static_cast<uint32_t>(len)}});
  }
  return counts;
}

} // namespace vigil
