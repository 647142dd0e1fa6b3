#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

namespace vigil {

/// Transparent hash over `std::string_view`. Debian builds Abseil with its
/// own `absl::string_view`, so the stock `StringHash` does not accept
/// `std::string_view` keys; this one does, which lets the tables look up
/// and insert straight from views into a batch without building a string.
struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

struct string_eq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

/// A hash map from owned strings, queried with `std::string_view`.
template <class V>
using string_map = absl::flat_hash_map<std::string, V, string_hash, string_eq>;

/// A hash set of owned strings, queried with `std::string_view`.
using string_set = absl::flat_hash_set<std::string, string_hash, string_eq>;

} // namespace vigil
