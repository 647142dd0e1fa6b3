#include "parse/timestamp.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <unistd.h>

namespace vigil {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

inline bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline bool digits(const char* p, int n, int& out) noexcept {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!digit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  out = v;
  return true;
}

// Month abbreviations as Apache writes them; compared case-insensitively on
// the packed lower-case letters.
int month_from_abbrev(const char* p) noexcept {
  auto lc = [](char c) { return static_cast<unsigned>(c | 0x20); };
  unsigned key = (lc(p[0]) << 16) | (lc(p[1]) << 8) | lc(p[2]);
  switch (key) {
    case ('j' << 16) | ('a' << 8) | 'n': return 1;
    case ('f' << 16) | ('e' << 8) | 'b': return 2;
    case ('m' << 16) | ('a' << 8) | 'r': return 3;
    case ('a' << 16) | ('p' << 8) | 'r': return 4;
    case ('m' << 16) | ('a' << 8) | 'y': return 5;
    case ('j' << 16) | ('u' << 8) | 'n': return 6;
    case ('j' << 16) | ('u' << 8) | 'l': return 7;
    case ('a' << 16) | ('u' << 8) | 'g': return 8;
    case ('s' << 16) | ('e' << 8) | 'p': return 9;
    case ('o' << 16) | ('c' << 8) | 't': return 10;
    case ('n' << 16) | ('o' << 8) | 'v': return 11;
    case ('d' << 16) | ('e' << 8) | 'c': return 12;
    default: return 0;
  }
}

bool valid_date(int y, int m, int d) noexcept {
  static constexpr int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
  if (m == 2 && d == 29) return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return true;
}

bool to_utc(int y, int mo, int d, int h, int mi, int s, int frac_ms, int32_t offset_s,
            log_time& out) noexcept {
  if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 60) return false;
  int64_t local = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400
                  + h * 3600 + mi * 60 + s;
  out.utc_ms = (local - offset_s) * 1000 + frac_ms;
  out.offset_s = offset_s;
  return true;
}

} // namespace

bool parse_clf_time(std::string_view s, log_time& out) noexcept {
  // 10/Oct/2000:13:55:36 -0700  (26 characters)
  if (s.size() != 26) return false;
  const char* p = s.data();
  int d, y, h, mi, sec, oh, om;
  if (!digits(p, 2, d) || p[2] != '/' || p[6] != '/' || !digits(p + 7, 4, y) || p[11] != ':'
      || !digits(p + 12, 2, h) || p[14] != ':' || !digits(p + 15, 2, mi) || p[17] != ':'
      || !digits(p + 18, 2, sec) || p[20] != ' ' || (p[21] != '+' && p[21] != '-')
      || !digits(p + 22, 2, oh) || !digits(p + 24, 2, om))
    return false;
  int mo = month_from_abbrev(p + 3);
  if (mo == 0 || oh > 14 || om > 59) return false;
  int32_t offset = (oh * 3600 + om * 60) * (p[21] == '-' ? -1 : 1);
  return to_utc(y, mo, d, h, mi, sec, 0, offset, out);
}

bool parse_rfc3339_time(std::string_view s, log_time& out) noexcept {
  // 2015-05-17T10:05:03[.fff...](Z|+hh:mm|+hhmm)
  if (s.size() < 20) return false;
  const char* p = s.data();
  int y, mo, d, h, mi, sec;
  if (!digits(p, 4, y) || p[4] != '-' || !digits(p + 5, 2, mo) || p[7] != '-'
      || !digits(p + 8, 2, d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ')
      || !digits(p + 11, 2, h) || p[13] != ':' || !digits(p + 14, 2, mi) || p[16] != ':'
      || !digits(p + 17, 2, sec))
    return false;
  size_t i = 19;
  int frac_ms = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    int n = 0;
    while (i < s.size() && digit(s[i])) {
      if (n < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return false;
    for (; n < 3; ++n) frac_ms *= 10;
  }
  if (i >= s.size()) return false;
  int32_t offset = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int sign = s[i] == '-' ? -1 : 1;
    int oh, om;
    if (i + 3 > s.size() || !digits(p + i + 1, 2, oh)) return false;
    i += 3;
    if (i < s.size() && s[i] == ':') ++i;
    if (i + 2 > s.size() || !digits(p + i, 2, om)) return false;
    i += 2;
    if (oh > 14 || om > 59) return false;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return false;
  }
  if (i != s.size()) return false;
  return to_utc(y, mo, d, h, mi, sec, frac_ms, offset, out);
}

void append_rfc3339_utc(std::string& out, int64_t utc_ms) {
  int64_t secs = utc_ms >= 0 ? utc_ms / 1000 : (utc_ms - 999) / 1000;
  int ms = static_cast<int>(utc_ms - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  // civil_from_days (H. Hinnant)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  const int h = static_cast<int>(rem / 3600), mi = static_cast<int>(rem / 60 % 60), s = static_cast<int>(rem % 60);
  if (y < 0 || y > 9999) {  // outside RFC 3339's four digits: as printf would write it
    char buf[48];
    std::snprintf(buf, sizeof(buf), ms != 0 ? "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ" : "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                  static_cast<long long>(y), m, d, h, mi, s, ms);
    out += buf;
    return;
  }
  // By hand: a timestamp per record is on the hot path, and printf is
  // slower than the rest of formatting the record.
  char buf[24];
  auto two = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  two(buf, static_cast<unsigned>(y / 100));
  two(buf + 2, static_cast<unsigned>(y % 100));
  buf[4] = '-';
  two(buf + 5, m);
  buf[7] = '-';
  two(buf + 8, d);
  buf[10] = 'T';
  two(buf + 11, static_cast<unsigned>(h));
  buf[13] = ':';
  two(buf + 14, static_cast<unsigned>(mi));
  buf[16] = ':';
  two(buf + 17, static_cast<unsigned>(s));
  size_t n = 19;
  if (ms != 0) {
    buf[19] = '.';
    buf[20] = static_cast<char>('0' + ms / 100);
    two(buf + 21, static_cast<unsigned>(ms % 100));
    n = 23;
  }
  buf[n++] = 'Z';
  out.append(buf, n);
}

std::string format_rfc3339_utc(int64_t utc_ms) {
  std::string out;
  append_rfc3339_utc(out, utc_ms);
  return out;
}

int64_t wall_clock_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t process_uptime_ms() noexcept {
  // Field 22 of /proc/self/stat: start time in clock ticks since boot.
  std::FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return -1;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  if (!p) return -1;
  int field = 2;
  unsigned long long start_ticks = 0;
  for (const char* q = p + 1; *q; ++q)
    if (*q == ' ' && ++field == 22) {
      start_ticks = std::strtoull(q + 1, nullptr, 10);
      break;
    }
  timespec boot{};
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const double now_ms = boot.tv_sec * 1000.0 + boot.tv_nsec / 1e6;
  return static_cast<int64_t>(now_ms - start_ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

} // namespace vigil
