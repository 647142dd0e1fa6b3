#include "clean/path_decoder.hpp"

#include <cstring>
#include <utility>

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

/// One decoding round of `in` into `out` (which must not alias `in`);
/// `plus_is_space`: a query string's '+' is a space.
round_result decode_once(std::string_view in, std::string& out, bool plus_is_space = false) {
  round_result r;
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
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

namespace {

path_decoding decode(std::string_view path, std::string& out, const path_decode_limits& limits, bool query) {
  if (path.find('%') == std::string_view::npos && !(query && path.find('+') != std::string_view::npos))
    return path_decoding::plain;
  if (path.size() > limits.max_bytes) return path_decoding::too_long;
  // Two buffers, swapped each round; the spare one keeps its capacity in a
  // thread-local so a long run of encoded paths allocates once.
  thread_local std::string spare;
  // '+' is a space in the first round only: one decoded from %2B is a '+'.
  round_result first = decode_once(path, out, query);
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

} // namespace

path_decoding decode_path(std::string_view path, std::string& out, const path_decode_limits& limits) {
  return decode(path, out, limits, false);
}

path_decoding decode_query(std::string_view query, std::string& out, const path_decode_limits& limits) {
  return decode(query, out, limits, true);
}

bool collapse_slashes(std::string_view path, std::string& out) {
  if (path.find('\\') == std::string_view::npos && path.find("//") == std::string_view::npos) return false;
  out.clear();
  for (char c : path) {
    if (c == '\\') c = '/';
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  return true;
}

bool decode_log_escapes(std::string_view text, std::string& out) {
  size_t at = text.find("\\x");
  if (at == std::string_view::npos) return false;
  bool changed = false;
  out.assign(text.substr(0, at));
  for (size_t i = at; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      const int hi = hex_value(text[i + 2]), lo = hex_value(text[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 3;
        changed = true;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return changed;
}

bool resolve_dot_segments(std::string_view path, std::string& out) {
  if (path.find("/.") == std::string_view::npos) return false;
  out.clear();
  bool changed = false;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '/') {
      out.push_back(path[i++]);
      continue;
    }
    const size_t end = path.find('/', i + 1);
    const std::string_view segment = path.substr(i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
    if (segment == ".") {
      changed = true;
    } else if (segment == "..") {
      // Above the root is the root, as a server resolves it.
      const size_t parent = out.rfind('/');
      out.resize(parent == std::string::npos ? 0 : parent);
      changed = true;
    } else {
      out.push_back('/');
      out.append(segment);
    }
    i = end == std::string_view::npos ? path.size() : end;
  }
  if (out.empty() || (changed && path.back() == '/' && out.back() != '/')) out.push_back('/');
  return changed;
}

namespace {

/// The character an HTML character reference at `s[i]` ('&') names, and
/// its length; 0 when there is none (the five named ones XSS uses, and
/// numeric ones below 128).
std::pair<char, size_t> entity_at(std::string_view s, size_t i) noexcept {
  static constexpr std::pair<std::string_view, char> named[] = {
    {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&amp;", '&'}, {"&colon;", ':'},
    {"&lpar;", '('}, {"&rpar;", ')'}, {"&sol;", '/'}, {"&tab;", '\t'}, {"&newline;", '\n'}};
  const std::string_view rest = s.substr(i);
  for (const auto& [name, c] : named)
    if (rest.size() >= name.size()) {
      bool same = true;
      for (size_t k = 0; k < name.size() && same; ++k)
        same = (rest[k] | 0x20) == (name[k] | 0x20) || rest[k] == name[k];
      if (same) return {c, name.size()};
    }
  if (rest.size() < 4 || rest[1] != '#') return {0, 0};
  const bool hex = rest[2] == 'x' || rest[2] == 'X';
  unsigned value = 0;
  size_t k = hex ? 3 : 2;
  const size_t digits_from = k;
  // Leading zeros are allowed (&#0000060; is '<'), so the digits are bounded, not their count.
  for (; k < rest.size() && k < 12; ++k) {
    const int d = hex ? hex_value(rest[k]) : (rest[k] >= '0' && rest[k] <= '9' ? rest[k] - '0' : -1);
    if (d < 0) break;
    value = value * (hex ? 16 : 10) + static_cast<unsigned>(d);
    if (value >= 128) return {0, 0};
  }
  if (k == digits_from || value == 0) return {0, 0};
  // Browsers take a reference without its ';' too.
  const size_t length = k < rest.size() && rest[k] == ';' ? k + 1 : k;
  return {static_cast<char>(value), length};
}

} // namespace

bool decode_html_entities(std::string_view text, std::string& out) {
  size_t at = text.find('&');
  if (at == std::string_view::npos) return false;
  bool changed = false;
  out.assign(text.substr(0, at));
  for (size_t i = at; i < text.size(); ++i) {
    if (text[i] == '&') {
      const auto [c, length] = entity_at(text, i);
      if (length > 0) {
        out.push_back(c);
        i += length - 1;
        changed = true;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return changed;
}

} // namespace vigil
