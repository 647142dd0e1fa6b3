#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

  /// The built-in set (config/signatures.txt): deserialized from databases
  /// compiled at build time, which takes about a millisecond instead of the
  /// ~80 ms a compile takes; compiled here when the embedded databases do
  /// not load (e.g. a CPU they were not built for).
  static std::shared_ptr<const signature_matcher> builtin(std::string& error);

  /// Loads databases written by `serialize_portable` from `set`; null (with
  /// `error`) when they do not load on this machine.
  static std::shared_ptr<const signature_matcher>
  deserialize(const std::array<std::string_view, signature_field_count>& blobs, const signature_set& set,
              std::string& error);

  /// Compiles `set` for any x86-64 CPU and serializes one database per
  /// field (empty where a field has no signatures). Used by the build.
  static bool serialize_portable(const signature_set& set,
                                 std::array<std::string, signature_field_count>& out,
                                 std::string& error);
  ~signature_matcher();
  signature_matcher(const signature_matcher&) = delete;
  signature_matcher& operator=(const signature_matcher&) = delete;

  /// The signatures compiled, indexed as `scan` reports them.
  const std::vector<signature>& signatures() const noexcept { return signatures_; }

  /// Per-thread scanning state (Hyperscan scratch space).
  class scanner {
  public:
    explicit scanner(std::shared_ptr<const signature_matcher> matcher);
    ~scanner();
    scanner(scanner&& other) noexcept;
    scanner& operator=(scanner&&) = delete;
    scanner(const scanner&) = delete;

    const signature_matcher& matcher() const noexcept { return *matcher_; }

    /// The classes of every signature on `field` that matches `text`; with
    /// `matched`, also appends the index (in the set) of each one.
    signature_mask scan(signature_field field, std::string_view text,
                        std::vector<uint32_t>* matched = nullptr) const;

  private:
    std::shared_ptr<const signature_matcher> matcher_;
    hs_scratch* scratch_ = nullptr;
  };

private:
  signature_matcher() = default;
  void adopt(const signature_set& set);
  static std::shared_ptr<signature_matcher> compile_for(const signature_set& set, const void* platform,
                                                        std::string& error);
  std::array<hs_database*, signature_field_count> databases_ = {};
  std::vector<signature> signatures_;
  std::vector<signature_mask> class_bits_;  ///< by signature index
  hs_scratch* prototype_ = nullptr;
};

/// The build-time serialized databases of the built-in set (generated).
std::array<std::string_view, signature_field_count> builtin_signature_databases() noexcept;

} // namespace vigil
