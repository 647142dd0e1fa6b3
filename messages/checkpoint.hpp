#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace vigil {

/// Who a piece of checkpointed state belongs to; each kind has a column
/// family of its own in the state store.
enum class state_kind : uint8_t { source, window, detector, alert, sink };
constexpr size_t state_kind_count = 5;
std::string_view to_string(state_kind k) noexcept;

/// One participant's state for one checkpoint: the bytes its codec wrote
/// (state/state_codec.hpp). Participants send theirs to the checkpoint
/// coordinator when the checkpoint's barrier reaches them.
struct state_part {
  state_part() = default;
  state_part(uint64_t checkpoint, state_kind kind, std::string participant, std::string bytes)
    : checkpoint(checkpoint), kind(kind), participant(std::move(participant)), bytes(std::move(bytes)) {}

  uint64_t checkpoint = 0;
  state_kind kind = state_kind::source;
  std::string participant;  ///< e.g. "source:access", "windows", "sink:alerts"
  std::string bytes;
  /// What follows `bytes`, in pieces stored one after another: the window
  /// stage's engines' states as each wrote it, so that 100 MB of them are
  /// never copied into one string. A part read back has it all in `bytes`.
  std::vector<std::string> tail;
  /// A piece of a part sent as it is made: more of it follows, and the
  /// last piece comes without this. The coordinator streams such a part
  /// to its table file instead of holding it (a window's 100 MB).
  bool more = false;

  uint64_t size() const noexcept {
    uint64_t n = bytes.size();
    for (const auto& piece : tail) n += piece.size();
    return n;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_part& x) {
  return f(caf::meta::type_name("vigil.state_part"), x.checkpoint, x.kind, x.participant, x.bytes, x.tail, x.more);
}

} // namespace vigil
