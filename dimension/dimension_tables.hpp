#pragma once

#include <memory>
#include <vector>

#include "dimension/cidr_table.hpp"
#include "dimension/watched_tables.hpp"
#include "settings/config.hpp"

namespace vigil {

/// A node's `[[dimension]]` tables (CIDR -> labels), loaded once and
/// shared by every enrich stage of every source, reloaded as their files
/// change (see `watched_tables`).
class dimension_tables {
public:
  explicit dimension_tables(std::vector<dimension_config> configs);

  /// Loads tables whose file changed since last looked at.
  void refresh() { tables_.refresh(); }

  /// The tables in use, in config order (null: not loaded).
  std::vector<std::shared_ptr<const cidr_table>> snapshot() const { return tables_.snapshot(); }

  const std::vector<dimension_config>& configs() const noexcept { return configs_; }

private:
  const std::vector<dimension_config> configs_;
  watched_tables<cidr_table> tables_;
};

} // namespace vigil
