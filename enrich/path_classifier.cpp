#include "enrich/path_classifier.hpp"

namespace vigil {

namespace {

constexpr signature_mask request_classes = static_cast<signature_mask>(~agent_mask);

/// Scans `text` as logged, percent-decoded as a query, and with HTML
/// references decoded.
signature_mask scan_decoded(const signature_matcher::scanner& scanner, signature_field field,
                            std::string_view text, std::string& scratch, const path_decode_limits& limits,
                            std::vector<uint32_t>* matched) {
  signature_mask classes = scanner.scan(field, text, matched);
  // A `"` or a byte outside printable ASCII is in the log as `\xHH`.
  thread_local std::string unlogged;
  if (decode_log_escapes(text, unlogged)) {
    classes |= scanner.scan(field, unlogged, matched);
    text = unlogged;
  }
  const path_decoding d = decode_query(text, scratch, limits);
  const bool decoded = d != path_decoding::plain && d != path_decoding::too_long;
  if (decoded) classes |= scanner.scan(field, scratch, matched);
  thread_local std::string unescaped;
  if (decode_html_entities(decoded ? std::string_view(scratch) : text, unescaped))
    classes |= scanner.scan(field, unescaped, matched);
  return classes;
}

bool is_token_char(char c) noexcept {
  // RFC 9110 tchar.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char t : std::string_view("!#$%&'*+-.^_`|~"))
    if (c == t) return true;
  return false;
}

} // namespace

path_verdict classify_path(const signature_matcher::scanner& scanner, std::string_view path,
                           std::string& scratch, const path_decode_limits& limits,
                           std::vector<uint32_t>* matched) {
  path_verdict v;
  v.classes = scanner.scan(signature_field::path, path, matched);
  thread_local std::string unlogged;
  if (decode_log_escapes(path, unlogged)) {
    v.classes |= scanner.scan(signature_field::path, unlogged, matched);
    path = unlogged;
  }
  v.decoding = decode_path(path, scratch, limits);
  // A path cut off by a limit is still scanned as far as it was decoded:
  // whatever it reveals is what a server decoding as far would act on.
  const bool decoded = v.decoding != path_decoding::plain && v.decoding != path_decoding::too_long;
  if (decoded) v.classes |= scanner.scan(signature_field::path, scratch, matched);
  std::string_view normal = decoded ? std::string_view(scratch) : path;
  // `//.env` and `\..\` are `/.env` and `/../` to the server.
  thread_local std::string collapsed, resolved;
  if (collapse_slashes(normal, collapsed)) {
    v.classes |= scanner.scan(signature_field::path, collapsed, matched);
    normal = collapsed;
  }
  // `/static/../.env` is the `/.env` it is served as.
  if (resolve_dot_segments(normal, resolved)) v.classes |= scanner.scan(signature_field::path, resolved, matched);
  // Frameworks that route path segments into parameters decode '+' as a
  // space there, as in a query.
  if (normal.find('+') != std::string_view::npos) {
    thread_local std::string spaced;
    spaced.assign(normal);
    for (char& c : spaced)
      if (c == '+') c = ' ';
    v.classes |= scanner.scan(signature_field::path, spaced, matched);
  }
  v.classes &= request_classes;
  return v;
}

signature_mask classify_query(const signature_matcher::scanner& scanner, std::string_view query,
                              std::string& scratch, const path_decode_limits& limits,
                              std::vector<uint32_t>* matched) {
  return scan_decoded(scanner, signature_field::query, query, scratch, limits, matched) & request_classes;
}

signature_mask classify_header(const signature_matcher::scanner& scanner, signature_field field,
                               std::string_view text, std::string& scratch, const path_decode_limits& limits,
                               std::vector<uint32_t>* matched) {
  if (text.empty() || text == "-") return 0;
  const signature_mask classes = scan_decoded(scanner, field, text, scratch, limits, matched);
  return field == signature_field::ua ? classes : classes & request_classes;
}

std::string_view request_line_rule(std::string_view method, std::string_view target, uint16_t status,
                                   bool malformed) noexcept {
  if (malformed) return "bad_request-not_http";
  if (status == 400) return "bad_request-status_400";
  if (method.empty()) return {};  // the request was logged as "-"
  for (char c : method)
    if (!is_token_char(c)) return "bad_request-method";
  if (method == "CONNECT") return "bad_request-connect";
  if (!target.empty() && target.front() != '/' && target != "*") return "bad_request-absolute_target";
  return {};
}

} // namespace vigil
