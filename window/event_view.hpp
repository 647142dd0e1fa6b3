#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "messages/event.hpp"
#include "window/window_engine.hpp"

namespace vigil {

/// The window view of a batch's events: fields as views into the batch,
/// hashes prepared. Labels come from the node's enrich stages in the order
/// of `label_names`; a batch without them (or with others) groups under "".
/// That is decided once per batch, not per event.
class batch_event_view {
public:
  batch_event_view(const event_batch& b, const std::vector<std::string>& label_names);

  /// Event `k`; valid until the next call.
  const window_event& at(size_t k);
  size_t size() const noexcept { return batch_.events.size(); }

private:
  const event_batch& batch_;
  size_t batch_labels_;  // labels per event in the batch that match; 0: none
  std::vector<std::string_view> labels_;
  window_event event_;
};

} // namespace vigil
