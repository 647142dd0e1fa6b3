#include "enrich/route_template.hpp"

#include <algorithm>

namespace vigil {

namespace {

bool is_id(std::string_view body) noexcept {
  if (body.empty()) return false;
  if (std::all_of(body.begin(), body.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  return body.size() >= 16 && std::all_of(body.begin(), body.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
         });
}

/// Calls f(segment body, is_id) for each '/'-separated segment; the body
/// excludes its leading '/'.
template <class F>
void for_each_segment(std::string_view path, F f) {
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos + 1);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    std::string_view seg = path.substr(pos, end - pos);
    const bool lead = !seg.empty() && seg[0] == '/';
    std::string_view body = seg.substr(lead ? 1 : 0);
    f(lead, body, is_id(body));
    pos = end;
  }
}

} // namespace

void append_route(std::string_view path, std::string& out) {
  if (path.empty()) return;
  for_each_segment(path, [&](bool lead, std::string_view body, bool id) {
    if (lead) out += '/';
    if (id) out += ":id";
    else out += body;
  });
}

bool has_route_ids(std::string_view path) noexcept {
  bool any = false;
  for_each_segment(path, [&](bool, std::string_view, bool id) { any |= id; });
  return any;
}

std::string route_of(std::string_view path) {
  std::string out;
  append_route(path, out);
  return out;
}

} // namespace vigil
