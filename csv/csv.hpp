#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// One CSV record (RFC 4180): comma-separated, fields may be double-quoted
/// with "" for a quote inside; unquoted fields are trimmed of spaces.
std::vector<std::string> split_csv(std::string_view line);

/// Appends `field` to `out` as one CSV field, quoted when it holds a comma,
/// a quote, a line break or surrounding spaces (RFC 4180).
void append_csv_field(std::string& out, std::string_view field);

} // namespace vigil
