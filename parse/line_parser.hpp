#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "messages/event.hpp"
#include "parse/clf_parser.hpp"
#include "parse/json_parser.hpp"
#include "parse/log_format.hpp"
#include "parse/parse_error.hpp"

namespace vigil {

/// Settings of the parse stage; the same for `vigil analyze` and `vigil run`.
struct parser_options {
  /// Default: auto (sniffed per input from its first lines).
  log_format format = log_format::auto_detect;
  /// How a request-time number without a unit is read. Default: auto.
  time_unit request_time_unit = time_unit::auto_detect;
  /// JSON key names for each event field (format `json`).
  json_fields fields = json_fields::defaults();
  /// Lines longer than this are quarantined as `too_long`. Default: 64 KiB.
  size_t max_line_bytes = 64 * 1024;
};

/// A line that did not parse: where it is in the batch and why.
struct line_failure {
  uint32_t line = 0;      ///< line index within the parsed span
  parse_error reason = parse_error::none;
  text_ref text;          ///< the line (capped at max_line_bytes)
};

/// Line counts of one parsed span.
struct line_counts {
  uint64_t lines = 0;        ///< non-empty lines seen
  uint64_t empty_lines = 0;  ///< skipped, not counted as requests
};

/// Splits text into lines and parses each with the format's parser.
/// Keeps per-thread state (time cache, JSON parser): one per worker.
class line_parser {
public:
  explicit line_parser(const parser_options& opts);

  /// Parses the lines in `batch.text[0, size)`, appending an event per good
  /// line and a failure per bad one. `format` must be resolved (not auto).
  /// Unescaped JSON strings are appended to `batch.text` past `size`.
  line_counts parse(log_format format, size_t size, event_batch& batch,
                    std::vector<line_failure>& failures);

  const parser_options& options() const noexcept { return opts_; }

private:
  parser_options opts_;
  clf_time_cache times_;
  json_line_parser json_;
};

} // namespace vigil
