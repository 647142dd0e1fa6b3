#include <cmath>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "hash/xxh3.hpp"
#include "sketch/distinct_counter.hpp"

using namespace vigil;

namespace {

// 1.04 / sqrt(4096): the standard error the header documents.
constexpr double standard_error = 0.01625;

uint64_t hash_of(uint64_t i) { return xxh3(std::to_string(i)); }

} // namespace

TEST_CASE("a distinct counter is exact up to its exact capacity, repeats and all") {
  distinct_counter c;
  for (int round = 0; round < 3; ++round)
    for (uint64_t i = 0; i < distinct_counter::exact_capacity; ++i) c.add(hash_of(i));
  CHECK(c.exact());
  CHECK(c.count() == distinct_counter::exact_capacity);
  c.add(hash_of(1000));
  CHECK_FALSE(c.exact());
  CHECK(c.count() == distinct_counter::exact_capacity + 1);  // linear counting: exact this small
}

TEST_CASE("past the exact range the estimate stays within 4 standard errors, at every scale") {
  for (uint64_t n : {20, 100, 1000, 10000, 100000, 1000000}) {
    distinct_counter c;
    for (uint64_t i = 0; i < n; ++i) {
      c.add(hash_of(i));
      c.add(hash_of(i));  // a repeat changes nothing
    }
    const double error = std::abs(static_cast<double>(c.count()) - static_cast<double>(n)) / static_cast<double>(n);
    INFO("n = " << n << ", estimate = " << c.count());
    CHECK(error <= 4 * standard_error);
  }
}

TEST_CASE("merging counters counts the union, and equals adding everything to one") {
  std::mt19937_64 rng(7);
  distinct_counter a, b, all;
  for (int i = 0; i < 30000; ++i) {
    const uint64_t h = hash_of(rng() % 50000);  // overlapping halves
    (i % 2 ? a : b).add(h);
    all.add(h);
  }
  distinct_counter merged = a;
  merged.merge(b);
  CHECK(merged.count() == all.count());
  // Small into large, large into small, and exact into exact.
  distinct_counter small;
  small.add(hash_of(1));
  small.add(hash_of(2));
  distinct_counter grown = small;
  grown.merge(all);
  distinct_counter other = all;
  other.merge(small);
  CHECK(grown.count() == other.count());
  distinct_counter three;
  three.add(hash_of(2));
  three.add(hash_of(3));
  three.merge(small);
  CHECK(three.exact());
  CHECK(three.count() == 3);
}

TEST_CASE("a counter rebuilt from its parts counts the same") {
  distinct_counter small, big;
  for (uint64_t i = 0; i < 5; ++i) small.add(hash_of(i));
  for (uint64_t i = 0; i < 5000; ++i) big.add(hash_of(i));
  auto small2 = distinct_counter::from_parts(small.exact_hashes(), small.exact_size(), small.registers());
  auto big2 = distinct_counter::from_parts(big.exact_hashes(), big.exact_size(), big.registers());
  CHECK(small2.exact());
  CHECK(small2.count() == 5);
  CHECK(big2.count() == big.count());
}
