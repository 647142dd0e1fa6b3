#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hash/string_map.hpp"
#include "settings/config.hpp"

namespace vigil {

/// A `[[lookup]]` table: CSV rows keyed by one or more columns, giving the
/// values of the lookup's `fields` (`product_id -> category, unit_price`).
/// Immutable once loaded; a reload builds a new one (see `watched_tables`).
class lookup_table {
public:
  /// Loads `cfg.path`: a header naming at least the key columns and the
  /// fields, then rows. `error` gets "FILE:LINE: what". A key seen twice
  /// keeps its last row.
  static std::shared_ptr<const lookup_table> load(const lookup_config& cfg, std::string& error);

  /// The row of `key` (key columns joined by `key_separator`): its field
  /// values in the lookup's `fields` order, or null.
  const std::string* find(std::string_view key) const;
  size_t size() const noexcept { return rows_.size(); }

  /// Joins the values of a multi-column key.
  static constexpr char key_separator = '\x1f';

private:
  size_t width_ = 0;
  string_map<size_t> rows_;          // key -> first value index
  std::vector<std::string> values_;  // width_ per row
};

} // namespace vigil
