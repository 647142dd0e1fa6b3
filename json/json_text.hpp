#pragma once

#include <string>
#include <string_view>

namespace vigil {

/// Appends `s` as a JSON string, quotes included. Printable ASCII goes
/// straight through; anything else is escaped as nlohmann-json does it,
/// invalid UTF-8 replaced by U+FFFD, so output does not depend on which
/// path wrote it.
void append_json_string(std::string& out, std::string_view s);

/// Appends a JSON number: an integer when `v` is integral (and exact as
/// one), else the digits nlohmann-json prints. NaN and infinities, which JSON lacks, are written as null.
void append_json_number(std::string& out, double v);

} // namespace vigil
