#pragma once

#include <cstdint>
#include <string_view>

#include "messages/event.hpp"
#include "parse/parse_error.hpp"
#include "parse/timestamp.hpp"

namespace vigil {

/// How a bare request-time number is read.
enum class time_unit : uint8_t {
  auto_detect,   ///< "0.123" (with a dot) is seconds, "123000" (integer) is microseconds (%D)
  seconds,
  milliseconds,
  microseconds,
};

struct clf_options {
  /// Combined format: referer and user agent follow the size. A line that
  /// ends after the size is still accepted, with both fields counted missing.
  bool expect_agent = true;
  time_unit request_time_unit = time_unit::auto_detect;
};

/// Parses one Apache/nginx common or combined line (with an optional
/// trailing request time) into `ev`. `base` is the offset of `line` within
/// the batch text, so the event's `text_ref`s point at the line in place.
/// Allocates nothing.
parse_error parse_clf_line(std::string_view line, uint32_t base, const clf_options& opts,
                           clf_time_cache& times, log_event& ev) noexcept;

/// Splits an HTTP request line ("GET /a?b HTTP/1.1") into `ev`'s method,
/// target, protocol and path length. Shared by the CLF and JSON parsers.
parse_error split_request_line(std::string_view request, uint32_t base, log_event& ev) noexcept;

/// Reads a request-time number ("0.123", "1234") in `unit`, as microseconds.
bool parse_request_time(std::string_view s, time_unit unit, int64_t& out_us) noexcept;

} // namespace vigil
