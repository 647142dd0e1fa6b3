#pragma once

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil {

/// Counts distinct 64-bit hashes: exactly up to `exact_capacity` of them,
/// then as a HyperLogLog of 2^12 registers. The relative standard error
/// past the exact range is 1.04 / sqrt(4096) = 1.6%; small counts use
/// linear counting and are within a few units. Mergeable (union), and the
/// same hashes give the same registers in any process, so partial counts
/// from other runs or nodes merge correctly, provided the hashes are stable
/// (`xxh3`, not `string_hash`).
///
/// The registers are kept sparse (only the ones set, 4 bytes each, the
/// first 8 inline) until more than `sparse_limit` are set, and dense
/// (4 KiB) after: a per-client window during a scan holds a counter of
/// paths for each of many thousand clients, and most of them set a few
/// dozen registers. Sparse or dense, the registers, and so every count and
/// every checkpoint, are the same.
///
/// Why not an exact set: a window stage adds every event to two of these
/// per window; an exact set of a busy minute spills out of the cache and
/// was a third of `vigil run`'s time.
///
/// 48 bytes while it holds 4 hashes or 8 registers (a window group has two,
/// and a million groups are a scan): the exact hashes past the first 4 and
/// the registers past the first 8 are on the heap.
class distinct_counter {
public:
  static constexpr unsigned precision = 12;
  static constexpr size_t register_count = size_t{1} << precision;
  static constexpr size_t exact_capacity = 8;
  /// Registers set before the sparse entries (1 KiB) give way to dense ones.
  static constexpr size_t sparse_limit = 256;

  distinct_counter() = default;
  distinct_counter(const distinct_counter& other);
  distinct_counter& operator=(const distinct_counter& other);
  /// A counter moved from is empty.
  distinct_counter(distinct_counter&& other) noexcept;
  distinct_counter& operator=(distinct_counter&& other) noexcept;

  void add(uint64_t hash) {
    if (mode_ == mode::dense) return add_to_dense(hash);
    if (mode_ == mode::sparse) return set_sparse(index_of(hash), rank_of(hash));
    for (uint8_t i = 0; i < small_size_; ++i)
      if (exact_hash(i) == hash) return;
    if (small_size_ < exact_capacity) return add_exact(hash);
    to_sparse();
    set_sparse(index_of(hash), rank_of(hash));
  }

  /// Folds `other` in: the counter of the union.
  void merge(const distinct_counter& other);

  /// The number of distinct hashes added (estimated past `exact_capacity`).
  uint64_t count() const;

  /// True while the count is exact.
  bool exact() const noexcept { return mode_ == mode::exact; }
  /// True while, past the exact range, the registers are kept sparse.
  bool sparse() const noexcept { return mode_ == mode::sparse; }
  /// Writes the `register_count` registers to `out` (all 0 while exact).
  void copy_registers(uint8_t* out) const noexcept;
  /// The exact hashes (while `exact()`): for codecs.
  /// The exact hashes (none when not exact).
  std::vector<uint64_t> exact_hashes() const;
  /// Rebuilds a counter from `n` exact hashes, or from `register_count`
  /// registers (kept sparse when few are set).
  static distinct_counter from_parts(const uint64_t* hashes, size_t n, const uint8_t* registers);

  /// Checkpoints and partials (`state_writer` / `state_reader` from
  /// state/state_codec.hpp): exact hashes, or registers as bytes: dense,
  /// `register_count` of them, or sparse, 4 bytes (little-endian) an entry
  /// of the set ones, at most `sparse_limit`, so never `register_count`
  /// bytes. (State format 3 had the dense form only.)
  template <class Writer>
  void save(Writer& w) const {
    w.boolean(!exact());
    if (mode_ == mode::dense) {
      w.bin(dense_registers(), register_count);
    } else if (mode_ == mode::sparse) {
      std::array<uint8_t, sparse_limit * 4> bytes;
      const uint32_t* e = entries();
      for (uint16_t i = 0; i < sparse_size_; ++i)
        for (int b = 0; b < 4; ++b) bytes[i * 4u + b] = static_cast<uint8_t>(e[i] >> (8 * b));
      w.bin(bytes.data(), sparse_size_ * 4u);
    } else {
      w.u64s(exact_hashes());
    }
  }
  template <class Reader>
  void restore(Reader& r) {
    if (r.boolean()) {
      const std::string_view regs = r.bin_view();
      const auto* bytes = reinterpret_cast<const uint8_t*>(regs.data());
      if (regs.size() == register_count) {
        *this = from_parts(nullptr, 0, bytes);
      } else if (regs.size() % 4 == 0 && regs.size() / 4 <= sparse_limit) {
        *this = from_entries(bytes, regs.size() / 4);
      } else {
        throw std::runtime_error("distinct counter: " + std::to_string(regs.size()) + " bytes of registers");
      }
    } else {
      const size_t n = r.u64s_begin();
      if (n > exact_capacity) throw std::runtime_error("distinct counter: too many exact values");
      uint64_t hashes[exact_capacity];
      for (size_t i = 0; i < n; ++i) hashes[i] = r.u64();
      *this = from_parts(hashes, n, nullptr);
    }
  }

private:
  enum class mode : uint8_t { exact, sparse, dense };
  static constexpr size_t inline_hashes = 4;
  static constexpr size_t inline_entries = inline_hashes * 2;

  static size_t index_of(uint64_t hash) noexcept { return hash >> (64 - precision); }
  static uint8_t rank_of(uint64_t hash) noexcept {
    // The rank of the first set bit after the index bits; a sentinel bit
    // keeps it within 64 - precision + 1.
    const uint64_t rest = (hash << precision) | (uint64_t{1} << (precision - 1));
    return static_cast<uint8_t>(__builtin_clzll(rest) + 1);
  }
  /// A sparse entry: the register's index above its rank's 8 bits, so
  /// entries sorted as numbers are sorted by index.
  static uint32_t entry(size_t index, uint8_t rank) noexcept { return static_cast<uint32_t>(index << 8) | rank; }
  static size_t entry_index(uint32_t e) noexcept { return e >> 8; }
  static uint8_t entry_rank(uint32_t e) noexcept { return static_cast<uint8_t>(e & 0xff); }

  void raise_dense(size_t index, uint8_t rank) noexcept {
    uint8_t& r = dense_registers()[index];
    r = std::max(r, rank);
  }
  void add_to_dense(uint64_t hash) noexcept { raise_dense(index_of(hash), rank_of(hash)); }
  /// Raises register `index` to `rank` (turning dense past `sparse_limit`).
  void set_sparse(size_t index, uint8_t rank);
  /// Exact hash `i`: inline, or in `heap_` as two words (read and written
  /// through memcpy, as uint32_t storage may not be read as uint64_t).
  uint64_t exact_hash(size_t i) const noexcept {
    if (!heap_) return small_.hashes[i];
    uint64_t h;
    std::memcpy(&h, heap_.get() + 2 * i, sizeof h);
    return h;
  }
  void add_exact(uint64_t hash);
  uint32_t* entries() noexcept { return heap_ ? heap_.get() : small_.entries.data(); }
  const uint32_t* entries() const noexcept { return heap_ ? heap_.get() : small_.entries.data(); }
  // Dense registers live in uint32_t storage read as bytes (a char type
  // may alias any object).
  uint8_t* dense_registers() noexcept { return reinterpret_cast<uint8_t*>(heap_.get()); }
  const uint8_t* dense_registers() const noexcept { return reinterpret_cast<const uint8_t*>(heap_.get()); }
  void to_sparse();
  void to_dense();
  /// A sparse counter from `n` saved entries; throws on entries out of
  /// order or of impossible registers (a damaged checkpoint).
  static distinct_counter from_entries(const uint8_t* bytes, size_t n);

  // Exact: the hashes, here while they fit. Sparse: the entries, here
  // while they fit.
  union small_storage {
    std::array<uint64_t, inline_hashes> hashes{};
    std::array<uint32_t, inline_entries> entries;
  } small_;
  // Exact past the inline hashes: all the hashes; sparse past the inline
  // entries: the entries; dense: the registers.
  std::unique_ptr<uint32_t[]> heap_;
  uint8_t small_size_ = 0;  // exact hashes
  mode mode_ = mode::exact;
  uint16_t sparse_size_ = 0;  // entries
  uint16_t heap_words_ = 0;   // what `heap_` holds when not dense (0: nothing)
};

} // namespace vigil
