#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tail/file_follower.hpp"

namespace vigil {

/// A file source's part of a checkpoint: for every file it follows, the
/// file's identity and the offset of the last line handed on.
std::string encode_tail_positions(const std::vector<tail_position>& positions);

/// Throws `state_decode_error` on bytes that are not such a part.
std::vector<tail_position> decode_tail_positions(std::string_view bytes);

} // namespace vigil
