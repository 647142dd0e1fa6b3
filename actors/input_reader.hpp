#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "input/chunk_reader.hpp"
#include "messages/interfaces.hpp"

namespace vigil {

struct input_reader_config {
  /// The opened inputs; the actor owns reading from them.
  std::shared_ptr<chunk_reader> reader;
  std::vector<analyze_worker_actor> workers;
  report_merger_actor merger;
  /// Chunks in flight per worker: 2 keeps a worker busy while its next
  /// chunk is read, and bounds memory to workers x credit x chunk size.
  size_t credit_per_worker = 2;
  /// Called on the reader's thread after each chunk is read.
  std::function<void(const chunk_reader&)> on_progress;
};

/// Spawns the reader on its own thread (it blocks on file reads): it deals
/// chunks to workers under credit and, once all are parsed, collects the
/// partials through the merger (see `input_reader_actor`).
input_reader_actor spawn_input_reader(caf::actor_system& sys, input_reader_config cfg);

} // namespace vigil
