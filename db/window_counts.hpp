#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace vigil {

/// A window table's counts as a check reads them back: `metric` per
/// (`group` value, window start in ms), from `table` in the PostgreSQL
/// database of `dsn` (a postgres sink's window table). False with `error`.
bool postgres_window_counts(const std::string& dsn, const std::string& table, const std::string& group,
                            const std::string& metric, std::map<std::pair<std::string, int64_t>, uint64_t>& out,
                            std::string& error);

} // namespace vigil
