#include "parse/clf_parser.hpp"

#include <cstring>

namespace vigil {

namespace {

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Finds the closing quote of a quoted field starting at `p`, skipping
/// quotes escaped with a backslash (Apache writes `\"`).
const char* find_closing_quote(const char* p, const char* end) noexcept {
  while (p < end) {
    auto q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    if (q == nullptr) return nullptr;
    size_t backslashes = 0;
    for (const char* b = q; b > p && b[-1] == '\\'; --b) ++backslashes;
    if (backslashes % 2 == 0) return q;
    p = q + 1;
  }
  return nullptr;
}

inline bool is_dash(const char* s, const char* e) noexcept { return e - s == 1 && *s == '-'; }

} // namespace

bool parse_request_time(std::string_view s, time_unit unit, int64_t& out_us) noexcept {
  if (s.empty() || s.size() > 24) return false;
  size_t i = 0;
  int64_t whole = 0;
  size_t int_digits = 0;
  while (i < s.size() && is_digit(s[i])) {
    whole = whole * 10 + (s[i] - '0');
    ++i;
    ++int_digits;
  }
  int64_t frac_us = 0;  // fraction of one unit, in millionths
  bool has_dot = false;
  if (i < s.size() && s[i] == '.') {
    has_dot = true;
    ++i;
    int64_t scale = 100000;
    size_t frac_digits = 0;
    while (i < s.size() && is_digit(s[i])) {
      frac_us += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
      ++frac_digits;
    }
    if (frac_digits == 0 && int_digits == 0) return false;
  }
  if (i != s.size() || (int_digits == 0 && !has_dot) || int_digits > 15) return false;
  if (unit == time_unit::auto_detect)
    unit = has_dot ? time_unit::seconds : time_unit::microseconds;
  switch (unit) {
    case time_unit::seconds: out_us = whole * 1000000 + frac_us; break;
    case time_unit::milliseconds: out_us = whole * 1000 + frac_us / 1000; break;
    default: out_us = whole; break;
  }
  return true;
}

/// A request field that is not "METHOD target" (binary sent to the HTTP
/// port, "HELP", a bare word) is what the server logged, not a malformed
/// log line: the event keeps it whole as its target, for the `bad_request`
/// class to find.
parse_error malformed_request(std::string_view request, uint32_t base, log_event& ev) noexcept {
  ev.flags |= event_flags::request_malformed;
  ev.method = ev.protocol = text_ref{base, 0};
  ev.target = text_ref{base, static_cast<uint32_t>(request.size())};
  ev.path_length = static_cast<uint32_t>(request.size());
  return parse_error::none;
}

parse_error split_request_line(std::string_view request, uint32_t base, log_event& ev) noexcept {
  const char* b = request.data();
  const char* e = b + request.size();
  if (request.empty() || is_dash(b, e)) {
    ev.flags |= event_flags::request_missing;
    ev.method = ev.target = ev.protocol = text_ref{base, 0};
    ev.path_length = 0;
    return parse_error::none;
  }
  const char* p = b;
  while (p < e && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '-'
                   || *p == '_'))
    ++p;
  if (p == b || p == e || *p != ' ' || p - b > 24) return malformed_request(request, base, ev);
  ev.method = text_ref{base, static_cast<uint32_t>(p - b)};
  const char* t = p + 1;
  const char* t_end = e;
  ev.protocol = text_ref{static_cast<uint32_t>(base + (e - b)), 0};
  // The protocol is the last token when it looks like one; a target may
  // itself contain spaces (badly encoded clients do send them).
  for (const char* q = e; q > t; --q) {
    if (q[-1] == ' ') {
      if (e - q >= 5 && std::memcmp(q, "HTTP/", 5) == 0) {
        ev.protocol = text_ref{static_cast<uint32_t>(base + (q - b)), static_cast<uint32_t>(e - q)};
        t_end = q - 1;
      }
      break;
    }
  }
  if (t_end <= t) return malformed_request(request, base, ev);
  ev.target = text_ref{static_cast<uint32_t>(base + (t - b)), static_cast<uint32_t>(t_end - t)};
  auto qm = static_cast<const char*>(std::memchr(t, '?', static_cast<size_t>(t_end - t)));
  ev.path_length = static_cast<uint32_t>((qm ? qm : t_end) - t);
  return parse_error::none;
}

parse_error parse_clf_line(std::string_view line, uint32_t base, const clf_options& opts,
                           clf_time_cache& times, log_event& ev) noexcept {
  const char* b = line.data();
  const char* e = b + line.size();
  auto ref = [&](const char* s, const char* t) {
    return text_ref{static_cast<uint32_t>(base + (s - b)), static_cast<uint32_t>(t - s)};
  };
  ev.flags = 0;

  // client
  auto sp = static_cast<const char*>(std::memchr(b, ' ', line.size()));
  if (sp == b) return parse_error::bad_host;
  if (sp == nullptr) return parse_error::truncated;
  ev.client = ref(b, sp);

  // ident and user: the last token before the '['
  auto lb = static_cast<const char*>(std::memchr(sp, '[', static_cast<size_t>(e - sp)));
  if (lb == nullptr) return parse_error::truncated;
  if (lb[-1] != ' ' || lb - sp < 2) return parse_error::bad_timestamp;
  const char* user_end = lb - 1;
  const char* user_begin = user_end;
  while (user_begin > sp + 1 && user_begin[-1] != ' ') --user_begin;
  ev.user = is_dash(user_begin, user_end) ? ref(user_end, user_end) : ref(user_begin, user_end);

  // [timestamp]
  const char* rb = lb + 27;
  if (rb >= e || *rb != ']') {
    rb = static_cast<const char*>(std::memchr(lb, ']', static_cast<size_t>(e - lb)));
    if (rb == nullptr) return parse_error::truncated;
  }
  log_time t;
  if (!times.parse(std::string_view(lb + 1, static_cast<size_t>(rb - lb - 1)), t))
    return parse_error::bad_timestamp;
  ev.time_ms = t.utc_ms;
  ev.utc_offset_s = t.offset_s;

  // "request"
  const char* p = rb + 1;
  if (e - p < 2) return parse_error::truncated;
  if (p[0] != ' ' || p[1] != '"') return parse_error::bad_request_line;
  const char* rq = p + 2;
  const char* rq_end = find_closing_quote(rq, e);
  if (rq_end == nullptr) return parse_error::truncated;
  if (auto err = split_request_line(std::string_view(rq, static_cast<size_t>(rq_end - rq)),
                                    static_cast<uint32_t>(base + (rq - b)), ev);
      err != parse_error::none)
    return err;

  // status
  p = rq_end + 1;
  if (e - p < 4) return parse_error::truncated;
  if (p[0] != ' ' || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3])
      || (p + 4 < e && p[4] != ' '))
    return parse_error::bad_status;
  ev.status = static_cast<uint16_t>((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0'));
  if (ev.status < 100 || ev.status > 599) return parse_error::bad_status;
  p += 4;

  // size
  if (e - p < 2 || p[0] != ' ') return parse_error::truncated;
  ++p;
  if (*p == '-') {
    ev.bytes = 0;
    ev.flags |= event_flags::bytes_missing;
    ++p;
  } else {
    uint64_t v = 0;
    const char* d = p;
    while (p < e && is_digit(*p) && p - d < 19) v = v * 10 + static_cast<uint64_t>(*p++ - '0');
    if (p == d) return parse_error::bad_bytes;
    ev.bytes = v;
  }
  if (p < e && *p != ' ') return parse_error::bad_bytes;

  ev.referer = ev.user_agent = ev.vhost = ref(e, e);
  const char* rest = p;
  if (e - p >= 2 && p[0] == ' ' && p[1] == '"') {
    // "referer"
    const char* r = p + 2;
    const char* r_end = find_closing_quote(r, e);
    if (r_end == nullptr) return parse_error::truncated;
    if (!is_dash(r, r_end)) ev.referer = ref(r, r_end);
    p = r_end + 1;
    rest = p;
    if (e - p >= 2 && p[0] == ' ' && p[1] == '"') {
      // "user agent": real logs cut lines short inside it; the field then
      // runs to the end of the line, as GoAccess reads it.
      const char* a = p + 2;
      const char* a_end = find_closing_quote(a, e);
      if (a_end == nullptr) {
        a_end = e;
        ev.flags |= event_flags::agent_truncated;
        rest = e;
      } else {
        rest = a_end + 1;
      }
      if (!is_dash(a, a_end)) ev.user_agent = ref(a, a_end);
    }
  }
  if (opts.expect_agent) {
    if (ev.referer.empty()) ev.flags |= event_flags::referer_missing;
    if (ev.user_agent.empty()) ev.flags |= event_flags::agent_missing;
  }

  // optional trailing request time (nginx $request_time, Apache %D or %T)
  if (e - rest >= 2 && rest[0] == ' ') {
    const char* n = rest + 1;
    const char* n_end = n;
    while (n_end < e && (is_digit(*n_end) || *n_end == '.')) ++n_end;
    int64_t us;
    if (n_end > n && (n_end == e || *n_end == ' ')
        && parse_request_time(std::string_view(n, static_cast<size_t>(n_end - n)),
                              opts.request_time_unit, us)) {
      ev.request_time_us = us;
      ev.flags |= event_flags::has_request_time;
    }
  }
  return parse_error::none;
}

} // namespace vigil
