#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil {

/// Counts distinct 64-bit hashes: exactly up to `exact_capacity` of them,
/// then as a HyperLogLog of 2^12 registers (4 KiB). The relative standard
/// error past the exact range is 1.04 / sqrt(4096) = 1.6%; small counts use
/// linear counting and are within a few units. Mergeable (union), and the
/// same hashes give the same registers in any process, so partial counts
/// from other runs or nodes merge correctly, provided the hashes are stable
/// (`xxh3`, not `string_hash`).
///
/// Why not an exact set: a window stage adds every event to two of these
/// per window; an exact set of a busy minute spills out of the cache and
/// was a third of `vigil run`'s time.
class distinct_counter {
public:
  static constexpr unsigned precision = 12;
  static constexpr size_t register_count = size_t{1} << precision;
  static constexpr size_t exact_capacity = 8;

  distinct_counter() = default;
  distinct_counter(const distinct_counter& other);
  distinct_counter& operator=(const distinct_counter& other);
  distinct_counter(distinct_counter&&) noexcept = default;
  distinct_counter& operator=(distinct_counter&&) noexcept = default;

  void add(uint64_t hash) {
    if (registers_) return add_to_registers(hash);
    for (uint8_t i = 0; i < small_size_; ++i)
      if (small_[i] == hash) return;
    if (small_size_ < exact_capacity) {
      small_[small_size_++] = hash;
      return;
    }
    to_registers();
    add_to_registers(hash);
  }

  /// Folds `other` in: the counter of the union.
  void merge(const distinct_counter& other);

  /// The number of distinct hashes added (estimated past `exact_capacity`).
  uint64_t count() const;

  /// True while the count is exact.
  bool exact() const noexcept { return registers_ == nullptr; }

  /// The registers past the exact range (null before), and the exact
  /// hashes before it: for codecs.
  const uint8_t* registers() const noexcept { return registers_.get(); }
  const uint64_t* exact_hashes() const noexcept { return small_.data(); }
  size_t exact_size() const noexcept { return small_size_; }
  /// Rebuilds a counter from what the accessors above returned.
  static distinct_counter from_parts(const uint64_t* hashes, size_t n, const uint8_t* registers);

  /// Checkpoints (`state_writer` / `state_reader` from state/state_codec.hpp).
  template <class Writer>
  void save(Writer& w) const {
    w.boolean(registers_ != nullptr);
    if (registers_) {
      w.bin(registers_.get(), register_count);
    } else {
      w.u64s(std::vector<uint64_t>(small_.begin(), small_.begin() + small_size_));
    }
  }
  template <class Reader>
  void restore(Reader& r) {
    if (r.boolean()) {
      std::string regs = r.bin();
      if (regs.size() != register_count) throw std::runtime_error("distinct counter: wrong register count");
      *this = from_parts(nullptr, 0, reinterpret_cast<const uint8_t*>(regs.data()));
    } else {
      auto hashes = r.u64s();
      if (hashes.size() > exact_capacity) throw std::runtime_error("distinct counter: too many exact values");
      *this = from_parts(hashes.data(), hashes.size(), nullptr);
    }
  }

private:
  void to_registers();
  void add_to_registers(uint64_t hash) noexcept {
    const size_t index = hash >> (64 - precision);
    // The rank of the first set bit after the index bits; a sentinel bit
    // keeps it within 64 - precision + 1.
    const uint64_t rest = (hash << precision) | (uint64_t{1} << (precision - 1));
    const auto rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
    if (registers_[index] < rank) registers_[index] = rank;
  }

  std::array<uint64_t, exact_capacity> small_{};
  uint8_t small_size_ = 0;
  std::unique_ptr<uint8_t[]> registers_;
};

} // namespace vigil
