#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

namespace vigil {

/// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into ::ffff:0:0/96).
using ip_bytes = std::array<uint8_t, 16>;

/// Parses a textual IPv4 or IPv6 address without allocating.
std::optional<ip_bytes> parse_ip(std::string_view text) noexcept;

/// A dimension table keyed by CIDR prefix: each row holds labels (country,
/// ASN, org, ...) for a network, and a lookup finds the row of the longest
/// prefix that holds an address.
///
/// Longest-prefix match with one hash table per prefix length present,
/// probed from the longest down: at most as many probes as there are
/// distinct lengths in the file (a handful in practice), never a scan of
/// the rows.
class cidr_table {
public:
  /// Reads a CSV file: a header `cidr,FIELD...` whose fields equal
  /// `fields`, then one row per network. `error` gets "FILE:LINE: what".
  static std::shared_ptr<const cidr_table> load(const std::string& path,
                                                const std::vector<std::string>& fields,
                                                std::string& error);

  /// From rows already in memory (`cidr`, then one value per field).
  static std::shared_ptr<const cidr_table> from_rows(std::vector<std::string> fields,
                                                     const std::vector<std::vector<std::string>>& rows,
                                                     std::string& error);

  /// The row of the longest prefix holding `ip`; -1 when none does or the
  /// text is not an address.
  int64_t find(std::string_view ip) const noexcept;

  /// Label `field` of row `row`.
  const std::string& label(int64_t row, size_t field) const noexcept {
    return rows_[static_cast<size_t>(row) * fields_.size() + field];
  }

  const std::vector<std::string>& fields() const noexcept { return fields_; }
  size_t size() const noexcept { return fields_.empty() ? 0 : rows_.size() / fields_.size(); }

private:
  struct key_hash {
    size_t operator()(const ip_bytes& k) const noexcept;
  };
  bool add(std::string_view cidr, std::string& error);

  std::vector<std::string> fields_;
  std::vector<std::string> rows_;  // row-major labels
  /// Per prefix length (0..128), the masked network -> row.
  std::array<absl::flat_hash_map<ip_bytes, uint32_t, key_hash>, 129> by_length_;
  std::vector<int> lengths_;  // lengths present, longest first
};

} // namespace vigil
