#include "sketch/distinct_counter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vigil {

distinct_counter::distinct_counter(const distinct_counter& other)
  : small_(other.small_), small_size_(other.small_size_) {
  if (other.registers_) {
    registers_ = std::make_unique<uint8_t[]>(register_count);
    std::memcpy(registers_.get(), other.registers_.get(), register_count);
  }
}

distinct_counter& distinct_counter::operator=(const distinct_counter& other) {
  if (this != &other) *this = distinct_counter(other);
  return *this;
}

void distinct_counter::to_registers() {
  registers_ = std::make_unique<uint8_t[]>(register_count);  // zeroed
  for (uint8_t i = 0; i < small_size_; ++i) add_to_registers(small_[i]);
  small_size_ = 0;
}

void distinct_counter::merge(const distinct_counter& other) {
  if (!other.registers_) {
    for (uint8_t i = 0; i < other.small_size_; ++i) add(other.small_[i]);
    return;
  }
  if (!registers_) to_registers();
  for (size_t i = 0; i < register_count; ++i) registers_[i] = std::max(registers_[i], other.registers_[i]);
}

uint64_t distinct_counter::count() const {
  if (!registers_) return small_size_;
  constexpr double m = register_count;
  double inverse_sum = 0;
  size_t zeros = 0;
  for (size_t i = 0; i < register_count; ++i) {
    inverse_sum += std::ldexp(1.0, -registers_[i]);
    zeros += registers_[i] == 0;
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
    c.registers_ = std::make_unique<uint8_t[]>(register_count);
    std::memcpy(c.registers_.get(), registers, register_count);
    return c;
  }
  for (size_t i = 0; i < n; ++i) c.add(hashes[i]);
  return c;
}

} // namespace vigil
