#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

/// A point in time as read from a log line.
struct log_time {
  int64_t utc_ms = 0;      ///< UTC milliseconds since the Unix epoch
  int32_t offset_s = 0;    ///< the zone offset it was written with
};

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept;

/// Parses Apache's `%t` body: `10/Oct/2000:13:55:36 -0700` (no brackets).
bool parse_clf_time(std::string_view s, log_time& out) noexcept;

/// Parses RFC 3339 / ISO 8601: `2015-05-17T10:05:03Z`, `...+02:00`,
/// `...T10:05:03.123456-0700`; a space may stand for the `T`.
bool parse_rfc3339_time(std::string_view s, log_time& out) noexcept;

/// Formats UTC milliseconds as RFC 3339 with a `Z` (seconds precision when
/// the milliseconds are zero).
std::string format_rfc3339_utc(int64_t utc_ms);
/// The same, appended to `out` (no allocation of its own).
void append_rfc3339_utc(std::string& out, int64_t utc_ms);

/// The wall clock now, in milliseconds since the Unix epoch (UTC): what
/// alerts carry as `emitted_at`.
int64_t wall_clock_ms() noexcept;

/// Milliseconds since this process started (from /proc/self/stat).
int64_t process_uptime_ms() noexcept;

/// Division rounding toward negative infinity: which second, minute or
/// window an instant before 1970 falls in, too.
constexpr int64_t floor_div(int64_t a, int64_t b) noexcept {
  return a >= 0 ? a / b : (a - b + 1) / b;
}

/// The calendar day (days since epoch) of `t` in the zone it was written in.
inline int64_t local_day(const log_time& t) noexcept {
  return floor_div(t.utc_ms / 1000 + t.offset_s, 86400);
}

/// Remembers the last CLF timestamp text and its value: consecutive lines
/// usually share the second, so most lines skip the parse entirely.
class clf_time_cache {
public:
  bool parse(std::string_view s, log_time& out) noexcept {
    if (s.size() == len_ && s.size() <= sizeof(last_)
        && std::char_traits<char>::compare(s.data(), last_, len_) == 0) {
      out = value_;
      return true;
    }
    if (!parse_clf_time(s, out)) return false;
    if (s.size() <= sizeof(last_)) {
      std::char_traits<char>::copy(last_, s.data(), s.size());
      len_ = s.size();
      value_ = out;
    }
    return true;
  }

private:
  char last_[32] = {};
  size_t len_ = 0;
  log_time value_;
};

} // namespace vigil
