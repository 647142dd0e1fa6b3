#include "clean/path_decoder.hpp"

#include <cstring>

namespace vigil {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool escape_at(std::string_view s, size_t i) noexcept {
  return i + 2 < s.size() && s[i] == '%' && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0;
}

bool has_escape(std::string_view s) noexcept {
  for (size_t i = s.find('%'); i != std::string_view::npos; i = s.find('%', i + 1))
    if (escape_at(s, i)) return true;
  return false;
}

struct round_result {
  bool bad_escape = false;
  bool nul = false;
};

/// One decoding round of `in` into `out` (which must not alias `in`).
round_result decode_once(std::string_view in, std::string& out) {
  round_result r;
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (!escape_at(in, i)) {
      r.bad_escape = true;
      out.push_back('%');
      continue;
    }
    const char c = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
    i += 2;
    if (c == '\0') {
      r.nul = true;
      break;
    }
    out.push_back(c);
  }
  return r;
}

} // namespace

std::string_view to_string(path_decoding d) noexcept {
  switch (d) {
    case path_decoding::plain: return "plain";
    case path_decoding::decoded: return "decoded";
    case path_decoding::bad_escape: return "bad_escape";
    case path_decoding::nul_byte: return "nul_byte";
    case path_decoding::too_deep: return "too_deep";
    case path_decoding::too_long: return "too_long";
  }
  return "unknown";
}

path_decoding decode_path(std::string_view path, std::string& out, const path_decode_limits& limits) {
  if (path.find('%') == std::string_view::npos) return path_decoding::plain;
  if (path.size() > limits.max_bytes) return path_decoding::too_long;
  // Two buffers, swapped each round; the spare one keeps its capacity in a
  // thread-local so a long run of encoded paths allocates once.
  thread_local std::string spare;
  round_result first = decode_once(path, out);
  bool bad = first.bad_escape;
  if (first.nul) return path_decoding::nul_byte;
  for (unsigned round = 1; has_escape(out); ++round) {
    if (round >= limits.max_rounds) return path_decoding::too_deep;
    round_result r = decode_once(out, spare);
    out.swap(spare);
    bad = bad || r.bad_escape;
    if (r.nul) return path_decoding::nul_byte;
  }
  return bad ? path_decoding::bad_escape : path_decoding::decoded;
}

} // namespace vigil
