#pragma once

#include <cstddef>

#include <caf/actor_system_config.hpp>

namespace vigil {

/// The actor system settings every vigil pipeline uses: the message types,
/// error rendering, CAF's own logger silent (spdlog does the logging) and,
/// when `threads` is non-zero, the scheduler's thread count.
class system_config : public caf::actor_system_config {
public:
  explicit system_config(size_t threads = 0);
};

} // namespace vigil
