#include "signature/signature_set.hpp"

#include <array>
#include <cctype>
#include <stdexcept>
#include <fstream>
#include <sstream>

namespace vigil {

namespace {

constexpr std::array<std::string_view, signature_class_count> class_names = {
  "probe", "traversal", "sqli", "xss",  "scanner",    "bot",    "tool",       "auth", "static",
  "rfi",   "cmdi",      "code", "crlf", "ldap",       "shellshock", "badbot", "bad_request",
};
constexpr std::array<std::string_view, signature_field_count> field_names = {"path", "query", "referer", "ua"};

std::string class_list() {
  std::string out;
  for (size_t i = 0; i < class_names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == class_names.size() ? " or " : ", ") + std::string(class_names[i]);
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

std::string_view next_token(std::string_view& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    s = {};
    return {};
  }
  size_t e = s.find_first_of(" \t", b);
  std::string_view tok = s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
  s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  return tok;
}

} // namespace

std::string_view to_string(signature_class c) noexcept {
  return class_names[static_cast<size_t>(c)];
}

std::string_view to_string(signature_field f) noexcept {
  return field_names[static_cast<size_t>(f)];
}

bool signature_class_of(std::string_view name, signature_class& out) noexcept {
  for (size_t i = 0; i < class_names.size(); ++i)
    if (class_names[i] == name) {
      out = static_cast<signature_class>(i);
      return true;
    }
  return false;
}

const signature* signature_set::find(std::string_view id) const noexcept {
  for (const auto& s : signatures_)
    if (s.id == id) return &s;
  return nullptr;
}

signature_set signature_set::defaults() {
  signature_set set;
  std::string error;
  // The embedded file is validated by the test suite; a failure here is a
  // build defect, so say so loudly rather than run without signatures.
  if (!set.add_text(default_signature_text(), "config/signatures.txt", error))
    throw std::logic_error("embedded signatures are invalid: " + error);
  return set;
}

bool signature_set::add_text(std::string_view text, std::string_view source, std::string& error) {
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    std::string_view rest = line;
    std::string_view id = next_token(rest);
    if (id.empty() || id.front() == '#') continue;
    auto where = [&] { return std::string(source) + ":" + std::to_string(line_no) + ": "; };
    std::string_view field_name = next_token(rest);
    size_t p = rest.find_first_not_of(" \t");
    std::string_view pattern = p == std::string_view::npos ? std::string_view{} : rest.substr(p);
    signature sig;
    // The class is the id up to its first '-' (class names hold none).
    const size_t dash = id.find('-');
    const std::string_view cls_name = id.substr(0, dash);
    if (!signature_class_of(cls_name, sig.cls)) {
      error = where() + "unknown class '" + std::string(cls_name) + "' (expected " + class_list() + ")";
      return false;
    }
    if (dash != std::string_view::npos && !valid_name(id.substr(dash + 1))) {
      error = where() + "bad signature id '" + std::string(id)
              + "' (expected CLASS-NAME, the name of letters, digits, '_', '.' and '-')";
      return false;
    }
    for (std::string_view names = field_name; !names.empty();) {
      const size_t comma = names.find(',');
      const std::string_view name = names.substr(0, comma);
      names.remove_prefix(comma == std::string_view::npos ? names.size() : comma + 1);
      bool found = false;
      for (size_t i = 0; i < field_names.size(); ++i)
        if (field_names[i] == name) {
          sig.fields |= field_bit(static_cast<signature_field>(i));
          found = true;
        }
      if (!found) {
        error = where() + "unknown field '" + std::string(name)
                + "' (expected path, query, referer or ua, or several joined by ',')";
        return false;
      }
    }
    if (sig.fields == 0) {
      error = where() + "missing field (path, query, referer or ua)";
      return false;
    }
    if (pattern.empty()) {
      error = where() + "missing pattern";
      return false;
    }
    sig.pattern = std::string(pattern);
    sig.origin = where();
    sig.origin.resize(sig.origin.size() - 2);
    sig.id = dash == std::string_view::npos ? std::string(cls_name) + "@" + sig.origin : std::string(id);
    if (const signature* twin = find(sig.id)) {
      error = where() + "signature id '" + sig.id + "' is already used at " + twin->origin;
      return false;
    }
    signatures_.push_back(std::move(sig));
  }
  return true;
}

bool signature_set::add_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open signature file";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return add_text(ss.str(), path, error);
}

} // namespace vigil
