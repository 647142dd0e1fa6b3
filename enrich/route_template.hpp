#pragma once

#include <string>
#include <string_view>

namespace vigil {

/// Appends the route template of `path` to `out`: segments that are
/// numbers, or hex/UUID ids of 16 characters or more, become ":id"
/// (`/products/123` -> `/products/:id`). Allocates only if `out` grows.
void append_route(std::string_view path, std::string& out);

/// True when the route template of `path` differs from the path.
bool has_route_ids(std::string_view path) noexcept;

/// The route template of `path`.
std::string route_of(std::string_view path);

} // namespace vigil
