#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// Levenshtein distance, for "did you mean" on misspelled keys, commands
/// and options.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` within `max_distance` edits (ties: the
/// first), or a candidate `word` is a prefix of; "" when none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates,
                          size_t max_distance = 2);

} // namespace vigil
