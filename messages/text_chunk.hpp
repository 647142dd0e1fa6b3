#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "parse/log_format.hpp"

namespace vigil {

/// A run of whole lines read from one input, as the reader hands it to a
/// parse worker. Chunks of one input carry consecutive sequence numbers.
struct text_chunk {
  uint32_t input = 0;        ///< index of the input in the job's input list
  uint64_t sequence = 0;     ///< job-wide chunk number, in read order
  uint64_t offset = 0;       ///< byte offset of `text` in the (decompressed) input
  log_format format = log_format::combined;  ///< resolved, never auto
  std::string text;          ///< whole lines, each ending in '\n'
  std::string origin;        ///< live sources: the file (or "-") the lines came from
  /// Non-zero: the barrier of this checkpoint follows the chunk's lines
  /// (the chunk may hold no lines, only the barrier).
  uint64_t barrier = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, text_chunk& x) {
  return f(caf::meta::type_name("vigil.text_chunk"), x.input, x.sequence, x.offset, x.format,
           x.text, x.origin, x.barrier);
}

} // namespace vigil
