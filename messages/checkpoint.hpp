#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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
  uint64_t checkpoint = 0;
  state_kind kind = state_kind::source;
  std::string participant;  ///< e.g. "source:access", "windows", "sink:alerts"
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_part& x) {
  return f(caf::meta::type_name("vigil.state_part"), x.checkpoint, x.kind, x.participant, x.bytes);
}

} // namespace vigil
