#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

/// Bounds on the work spent decoding one path. Attackers encode a path
/// again and again (`%252e` is `%2e` is `.`) to slip past signatures, and
/// a hostile client can send megabytes of escapes; both are cut off here.
struct path_decode_limits {
  unsigned max_rounds = 3;   ///< decodings of an already decoded path
  size_t max_bytes = 8192;   ///< longer paths are not decoded at all
};

/// How decoding a path went. Everything after `decoded` is a limit or a
/// malformation: legitimate clients do not produce them, so the enrich
/// stage counts them (see docs in README, "Path decoding").
enum class path_decoding : uint8_t {
  plain,       ///< no escape in the path: nothing to decode
  decoded,     ///< decoded in at most `max_rounds` rounds
  bad_escape,  ///< a '%' not followed by two hex digits (kept as it is)
  nul_byte,    ///< decoded to a NUL byte; the path is cut there, as C code would see it
  too_deep,    ///< still holds escapes after `max_rounds` rounds
  too_long,    ///< longer than `max_bytes`: left encoded
};

std::string_view to_string(path_decoding d) noexcept;

/// True for the outcomes past `decoded`.
constexpr bool breaks_limits(path_decoding d) noexcept { return d > path_decoding::decoded; }

/// Percent-decodes `path` into `out`, and decodes the result again while it
/// still holds escapes, up to `limits.max_rounds` rounds. '+' stays '+' (it
/// means a space only in query strings). `out` is left untouched when the
/// outcome is `plain` or `too_long` (use `path` itself then); otherwise it
/// holds the path as decoded when decoding stopped. `out` is reused
/// storage, so a caller with its own buffer allocates nothing per path.
path_decoding decode_path(std::string_view path, std::string& out, const path_decode_limits& limits = {});

/// `decode_path` for a query string: '+' is also a space (in the first
/// round; a '+' decoded from `%2B` stays one).
path_decoding decode_query(std::string_view query, std::string& out, const path_decode_limits& limits = {});

/// `path` with each backslash made a '/' and runs of '/' made one (what
/// Windows servers and most routers do), into `out`; false, `out`
/// untouched, when there is nothing to collapse.
bool collapse_slashes(std::string_view path, std::string& out);

/// `path` with its `.` and `..` segments resolved as RFC 3986 says (a `..`
/// above the root stays at the root), into `out`: `/static/../.env` is the
/// `/.env` a server serves. False, `out` undefined, when there is none.
bool resolve_dot_segments(std::string_view path, std::string& out);

/// `text` with the `\xHH` escapes nginx and Apache write into a log for a
/// `"`, a backslash or a byte outside printable ASCII replaced by the byte,
/// into `out`: what the client sent. False, `out` undefined, when there is
/// none.
bool decode_log_escapes(std::string_view text, std::string& out);

/// `text` with HTML character references that spell ASCII (`&lt;`,
/// `&#x3c;`, `&#60`, `&colon;`, ...) replaced by their characters, into
/// `out`: a payload a browser would decode inside an attribute. False, `out`
/// undefined, when `text` holds none.
bool decode_html_entities(std::string_view text, std::string& out);

} // namespace vigil
