#include "sketch/distinct_counter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vigil {

namespace {

constexpr size_t dense_words = distinct_counter::register_count / sizeof(uint32_t);

} // namespace

distinct_counter::distinct_counter(const distinct_counter& other)
  : small_(other.small_), small_size_(other.small_size_), mode_(other.mode_), sparse_size_(other.sparse_size_),
    heap_words_(other.heap_words_) {
  const size_t words = mode_ == mode::dense ? dense_words : heap_words_;
  if (other.heap_) {
    heap_ = std::make_unique<uint32_t[]>(words);
    std::memcpy(heap_.get(), other.heap_.get(), words * sizeof(uint32_t));
  }
}

distinct_counter::distinct_counter(distinct_counter&& other) noexcept { *this = std::move(other); }

distinct_counter& distinct_counter::operator=(distinct_counter&& other) noexcept {
  if (this != &other) {
    small_ = other.small_;
    small_size_ = other.small_size_;
    mode_ = other.mode_;
    sparse_size_ = other.sparse_size_;
    heap_words_ = other.heap_words_;
    heap_ = std::move(other.heap_);
    other.small_size_ = 0;
    other.mode_ = mode::exact;
    other.sparse_size_ = other.heap_words_ = 0;
  }
  return *this;
}

distinct_counter& distinct_counter::operator=(const distinct_counter& other) {
  if (this != &other) *this = distinct_counter(other);
  return *this;
}

void distinct_counter::add_exact(uint64_t hash) {
  if (small_size_ == inline_hashes) {
    heap_ = std::make_unique<uint32_t[]>(2 * exact_capacity);
    heap_words_ = 2 * exact_capacity;
    std::memcpy(heap_.get(), small_.hashes.data(), sizeof small_.hashes);
  }
  if (heap_) std::memcpy(heap_.get() + 2 * small_size_, &hash, sizeof hash);
  else small_.hashes[small_size_] = hash;
  ++small_size_;
}

std::vector<uint64_t> distinct_counter::exact_hashes() const {
  std::vector<uint64_t> out;
  if (!exact()) return out;
  out.reserve(small_size_);
  for (uint8_t i = 0; i < small_size_; ++i) out.push_back(exact_hash(i));
  return out;
}

void distinct_counter::to_sparse() {
  std::array<uint64_t, exact_capacity> hashes;
  const uint8_t n = small_size_;
  for (uint8_t i = 0; i < n; ++i) hashes[i] = exact_hash(i);
  heap_.reset();
  heap_words_ = 0;
  small_.entries = {};
  small_size_ = 0;
  sparse_size_ = 0;
  mode_ = mode::sparse;
  for (uint8_t i = 0; i < n; ++i) set_sparse(index_of(hashes[i]), rank_of(hashes[i]));
}

void distinct_counter::to_dense() {
  auto registers = std::make_unique<uint32_t[]>(dense_words);
  copy_registers(reinterpret_cast<uint8_t*>(registers.get()));
  heap_ = std::move(registers);
  small_size_ = 0;
  sparse_size_ = heap_words_ = 0;
  mode_ = mode::dense;
}

void distinct_counter::set_sparse(size_t index, uint8_t rank) {
  uint32_t* e = entries();
  // The first entry of this index or a later one.
  uint32_t* at = std::lower_bound(e, e + sparse_size_, entry(index, 0));
  if (at != e + sparse_size_ && entry_index(*at) == index) {
    if (entry_rank(*at) < rank) *at = entry(index, rank);
    return;
  }
  if (sparse_size_ == sparse_limit) {
    to_dense();
    raise_dense(index, rank);
    return;
  }
  const size_t capacity = heap_ ? heap_words_ : inline_entries;
  if (sparse_size_ == capacity) {
    const size_t grown = std::min(capacity * 2, sparse_limit);
    auto bigger = std::make_unique<uint32_t[]>(grown);
    std::memcpy(bigger.get(), e, sparse_size_ * sizeof(uint32_t));
    const size_t offset = static_cast<size_t>(at - e);
    heap_ = std::move(bigger);
    heap_words_ = static_cast<uint16_t>(grown);
    e = heap_.get();
    at = e + offset;
  }
  std::memmove(at + 1, at, static_cast<size_t>(e + sparse_size_ - at) * sizeof(uint32_t));
  *at = entry(index, rank);
  ++sparse_size_;
}

void distinct_counter::copy_registers(uint8_t* out) const noexcept {
  if (mode_ == mode::dense) {
    std::memcpy(out, dense_registers(), register_count);
    return;
  }
  std::memset(out, 0, register_count);
  if (mode_ == mode::exact) {
    for (uint8_t i = 0; i < small_size_; ++i) {
      const uint64_t h = exact_hash(i);
      out[index_of(h)] = std::max(out[index_of(h)], rank_of(h));
    }
    return;
  }
  const uint32_t* e = entries();
  for (uint16_t i = 0; i < sparse_size_; ++i) out[entry_index(e[i])] = entry_rank(e[i]);
}

void distinct_counter::merge(const distinct_counter& other) {
  if (other.mode_ == mode::exact) {
    for (uint8_t i = 0; i < other.small_size_; ++i) add(other.exact_hash(i));
    return;
  }
  if (other.mode_ == mode::sparse) {
    if (mode_ == mode::exact) to_sparse();
    const uint32_t* e = other.entries();
    for (uint16_t i = 0; i < other.sparse_size_; ++i) {
      if (mode_ == mode::dense) raise_dense(entry_index(e[i]), entry_rank(e[i]));
      else set_sparse(entry_index(e[i]), entry_rank(e[i]));
    }
    return;
  }
  if (mode_ != mode::dense) to_dense();
  uint8_t* mine = dense_registers();
  const uint8_t* theirs = other.dense_registers();
  for (size_t i = 0; i < register_count; ++i) mine[i] = std::max(mine[i], theirs[i]);
}

uint64_t distinct_counter::count() const {
  if (mode_ == mode::exact) return small_size_;
  constexpr double m = register_count;
  double inverse_sum = 0;
  size_t zeros = 0;
  // Register by register in index order, sparse or dense, so both sum the
  // same doubles in the same order and round to the same count.
  const uint8_t* dense = mode_ == mode::dense ? dense_registers() : nullptr;
  const uint32_t* e = entries();
  const uint32_t* end = e + sparse_size_;
  for (size_t i = 0; i < register_count; ++i) {
    uint8_t r = 0;
    if (dense) {
      r = dense[i];
    } else if (e != end && entry_index(*e) == i) {
      r = entry_rank(*e++);
    }
    inverse_sum += std::ldexp(1.0, -r);
    zeros += r == 0;
  }
  const double alpha = 0.7213 / (1 + 1.079 / m);
  double estimate = alpha * m * m / inverse_sum;
  // Linear counting where HyperLogLog is biased (small cardinalities). With
  // 64-bit hashes there is no large-range correction to make.
  if (estimate <= 2.5 * m && zeros > 0) estimate = m * std::log(m / static_cast<double>(zeros));
  return static_cast<uint64_t>(std::llround(estimate));
}

distinct_counter distinct_counter::from_parts(const uint64_t* hashes, size_t n, const uint8_t* registers) {
  distinct_counter c;
  if (registers) {
    size_t set = 0;
    for (size_t i = 0; i < register_count; ++i) set += registers[i] != 0;
    if (set > sparse_limit) {
      c.to_dense();
      std::memcpy(c.dense_registers(), registers, register_count);
      return c;
    }
    c.to_sparse();
    for (size_t i = 0; i < register_count; ++i)
      if (registers[i] != 0) c.set_sparse(i, registers[i]);
    return c;
  }
  for (size_t i = 0; i < n; ++i) c.add(hashes[i]);
  return c;
}

distinct_counter distinct_counter::from_entries(const uint8_t* bytes, size_t n) {
  distinct_counter c;
  c.to_sparse();
  // The highest rank a 64-bit hash can have after its index bits.
  constexpr unsigned max_rank = 64 - precision + 1;
  long previous = -1;
  for (size_t i = 0; i < n; ++i) {
    uint32_t e = 0;
    for (int b = 0; b < 4; ++b) e |= static_cast<uint32_t>(bytes[i * 4 + b]) << (8 * b);
    const size_t index = entry_index(e);
    const uint8_t rank = entry_rank(e);
    if (index >= register_count || rank == 0 || rank > max_rank || static_cast<long>(index) <= previous)
      throw std::runtime_error("distinct counter: a damaged sparse register entry");
    previous = static_cast<long>(index);
    c.set_sparse(index, rank);
  }
  return c;
}

} // namespace vigil
