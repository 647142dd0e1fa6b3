#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "signature/signature_set.hpp"

struct hs_database;
struct hs_scratch;

namespace vigil {

/// A compiled signature set: one Hyperscan database per field, so each
/// field of a request is scanned once for all its signatures. Immutable and
/// shared between threads; each thread scans through its own `scanner`.
class signature_matcher {
public:
  /// Compiles `set`. On failure returns null and sets `error` to
  /// "FILE:LINE: pattern '...' does not compile: reason".
  static std::shared_ptr<const signature_matcher> compile(const signature_set& set,
                                                          std::string& error);
  ~signature_matcher();
  signature_matcher(const signature_matcher&) = delete;
  signature_matcher& operator=(const signature_matcher&) = delete;

  /// Per-thread scanning state (Hyperscan scratch space).
  class scanner {
  public:
    explicit scanner(std::shared_ptr<const signature_matcher> matcher);
    ~scanner();
    scanner(scanner&& other) noexcept;
    scanner& operator=(scanner&&) = delete;
    scanner(const scanner&) = delete;

    /// The classes of every signature on `field` that matches `text`.
    signature_mask scan(signature_field field, std::string_view text) const;

  private:
    std::shared_ptr<const signature_matcher> matcher_;
    hs_scratch* scratch_ = nullptr;
  };

private:
  signature_matcher() = default;
  std::array<hs_database*, signature_field_count> databases_ = {};
  hs_scratch* prototype_ = nullptr;
};

} // namespace vigil
