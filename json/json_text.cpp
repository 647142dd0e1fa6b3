#include "json/json_text.hpp"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vigil {

namespace {

bool plain_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  if (plain_ascii(s)) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  // Rare (escapes, UTF-8, bytes that are not text): the library's rules.
  out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
  } else if (v == std::floor(v) && std::abs(v) < 9e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(v));
  } else {
    // nlohmann's digits (Grisu2), not fmt's: they differ in the last
    // digit now and then, and results must not depend on the writer. Its
    // to_chars is what dump() calls, without a json value and a string
    // made for every number.
    char buf[64];
    const char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(end - buf));
  }
}

} // namespace vigil
