#pragma once

#include <cstddef>
#include <string_view>

#include "hash/stable_hash.hpp"
#include "settings/config.hpp"

namespace vigil {

/// Which aggregator of a cluster keeps a window's group. Keyed windows
/// (with group_by) are spread by a stable hash of the group key, so every
/// agent sends a key's partials to the same aggregator; a whole-stream
/// window has one group and lives on the first aggregator.
struct partition {
  size_t index = 0;  ///< this aggregator's, in config order
  size_t count = 1;  ///< aggregators in the cluster

  bool single() const noexcept { return count <= 1; }
};

/// The partition that owns group `key` (the window engine's group key) of
/// window `w`, among `count`.
inline size_t partition_of(const window_config& w, std::string_view key, size_t count) noexcept {
  if (count <= 1 || w.group_by.empty()) return 0;
  return static_cast<size_t>(stable_hash(key) % count);
}

/// Node `cfg.node.name`'s partition: its place among the cluster's
/// aggregators; {0, 1} for an agent or a single node.
inline partition partition_of_node(const vigil_config& cfg) {
  const auto names = aggregator_names(cfg.cluster);
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == cfg.node.name) return {i, names.size()};
  return {};
}

} // namespace vigil
