#pragma once

#include <atomic>

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "parse/log_format.hpp"
#include "tail/file_follower.hpp"

namespace vigil {

struct source_tally;

struct file_source_config {
  std::string name;
  tail_options tail;
  log_format format = log_format::auto_detect;
  /// The parse stages, chunk `sequence` to stage `sequence % size()`.
  std::vector<parse_stage_actor> next;
  /// Chunks in flight at most: the credit that bounds memory. Default: 4.
  size_t credit = 4;
  /// Where to resume, from the last complete checkpoint (empty: none).
  std::vector<tail_position> resume;
  /// Where the source's lag and access problem are shown (null: nowhere).
  std::shared_ptr<source_tally> tally;
  /// While set (the state store is full), nothing is read (null: never).
  std::shared_ptr<const std::atomic<bool>> paused;
};

/// Spawns a source on its own thread (it waits on inotify) that follows the
/// files of one [[source]] and hands their lines on (see `source_actor`).
source_actor spawn_file_source(caf::actor_system& sys, const file_source_config& cfg);

} // namespace vigil
