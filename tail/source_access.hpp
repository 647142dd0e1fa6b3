#pragma once

#include <string>

namespace vigil {

/// Why a file source's `pattern` (a glob in its last part) gives nothing
/// to follow now, in words for an operator: no such directory, a
/// directory where a file was meant, only non-regular files, or no match
/// at all. "" when at least one regular file matches.
std::string source_access_problem(const std::string& pattern);

} // namespace vigil
