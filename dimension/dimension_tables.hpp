#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <sys/stat.h>

#include "dimension/cidr_table.hpp"
#include "settings/config.hpp"

namespace vigil {

/// A node's `[[dimension]]` tables, loaded once and shared by every enrich
/// stage of every source. Thread-safe: any stage may ask for a refresh (the
/// first to see a file changed reloads it; the others find it done), and
/// each takes a snapshot per batch, so a reload swaps whole tables between
/// batches. A reload that fails keeps the table in use, logged as
/// `FILE:LINE: what`.
class dimension_tables {
public:
  explicit dimension_tables(std::vector<dimension_config> configs);

  /// Loads tables whose file changed since last looked at.
  void refresh();

  /// The tables in use, in config order (null: not loaded).
  std::vector<std::shared_ptr<const cidr_table>> snapshot() const;

  const std::vector<dimension_config>& configs() const noexcept { return configs_; }

private:
  struct loaded {
    std::shared_ptr<const cidr_table> table;
    struct stat seen {};  // the file as it was when last (re)loaded or tried
    bool tried = false;
  };
  const std::vector<dimension_config> configs_;
  mutable std::mutex lock_;
  std::vector<loaded> tables_;
};

} // namespace vigil
