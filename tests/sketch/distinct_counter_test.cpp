#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "hash/xxh3.hpp"
#include "sketch/distinct_counter.hpp"
#include "state/state_codec.hpp"

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

TEST_CASE("exact hashes past the inline ones (on the heap) copy, move, merge and save exactly") {
  static_assert(sizeof(distinct_counter) <= 48, "a window group holds two: keep it small");
  for (uint64_t n = 1; n <= distinct_counter::exact_capacity; ++n) {
    distinct_counter c;
    for (uint64_t i = 0; i < n; ++i) c.add(hash_of(i));
    distinct_counter copy = c;
    distinct_counter moved = std::move(copy);
    CHECK(moved.exact());
    CHECK(moved.count() == n);
    CHECK(moved.exact_hashes() == c.exact_hashes());
    distinct_counter other;  // half the same, half new
    for (uint64_t i = n / 2; i < n + n / 2; ++i) other.add(hash_of(i));
    other.merge(c);
    const uint64_t union_size = n + n / 2;
    CHECK(other.exact() == (union_size <= distinct_counter::exact_capacity));
    CHECK(other.count() == union_size);  // linear counting is exact this small
    state_writer w;
    c.save(w);
    const std::string bytes = w.take();
    state_reader r(bytes);
    distinct_counter back;
    back.restore(r);
    CHECK(back.exact_hashes() == c.exact_hashes());
  }
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

namespace {

/// `c` rebuilt as a codec would: its exact hashes, or its registers.
distinct_counter rebuilt(const distinct_counter& c) {
  if (c.exact()) {
    const auto hashes = c.exact_hashes();
    return distinct_counter::from_parts(hashes.data(), hashes.size(), nullptr);
  }
  std::vector<uint8_t> registers(distinct_counter::register_count);
  c.copy_registers(registers.data());
  return distinct_counter::from_parts(nullptr, 0, registers.data());
}

std::vector<uint8_t> registers_of(const distinct_counter& c) {
  std::vector<uint8_t> out(distinct_counter::register_count);
  c.copy_registers(out.data());
  return out;
}

/// Plain registers kept by hand, as the counter kept them before it had a
/// sparse form, and the estimate it made of them.
struct reference_registers {
  std::vector<uint8_t> r = std::vector<uint8_t>(distinct_counter::register_count);
  void add(uint64_t h) {
    const size_t index = h >> (64 - distinct_counter::precision);
    const uint64_t rest = (h << distinct_counter::precision) | (uint64_t{1} << (distinct_counter::precision - 1));
    r[index] = std::max(r[index], static_cast<uint8_t>(__builtin_clzll(rest) + 1));
  }
  uint64_t estimate() const {
    constexpr double m = distinct_counter::register_count;
    double inverse_sum = 0;
    size_t zeros = 0;
    for (uint8_t v : r) {
      inverse_sum += std::ldexp(1.0, -v);
      zeros += v == 0;
    }
    double e = 0.7213 / (1 + 1.079 / m) * m * m / inverse_sum;
    if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / static_cast<double>(zeros));
    return static_cast<uint64_t>(std::llround(e));
  }
};

} // namespace

TEST_CASE("a counter rebuilt from its parts counts the same") {
  distinct_counter small, middle, big;
  for (uint64_t i = 0; i < 5; ++i) small.add(hash_of(i));
  for (uint64_t i = 0; i < 100; ++i) middle.add(hash_of(i));
  for (uint64_t i = 0; i < 5000; ++i) big.add(hash_of(i));
  auto small2 = rebuilt(small), middle2 = rebuilt(middle), big2 = rebuilt(big);
  CHECK(small2.exact());
  CHECK(small2.count() == 5);
  CHECK(middle2.sparse());
  CHECK(middle2.count() == middle.count());
  CHECK_FALSE(big2.sparse());
  CHECK(big2.count() == big.count());
}

TEST_CASE("sparse registers are the dense ones and count the same, at every size") {
  reference_registers reference;
  distinct_counter c;
  bool saw_sparse = false, saw_dense = false;
  for (uint64_t i = 0; i < 3000; ++i) {
    c.add(hash_of(i));
    reference.add(hash_of(i));
    if (c.exact()) continue;
    (c.sparse() ? saw_sparse : saw_dense) = true;
    INFO("after " << i + 1 << " hashes, " << (c.sparse() ? "sparse" : "dense"));
    REQUIRE(registers_of(c) == reference.r);
    REQUIRE(c.count() == reference.estimate());
    REQUIRE(rebuilt(c).count() == c.count());
    const distinct_counter copy = c;
    REQUIRE(registers_of(copy) == reference.r);
  }
  CHECK(saw_sparse);
  CHECK(saw_dense);
}

TEST_CASE("merging exact, sparse and dense counters in any order gives the union's registers") {
  auto fill = [](uint64_t from, uint64_t n) {
    distinct_counter c;
    for (uint64_t i = from; i < from + n; ++i) c.add(hash_of(i));
    return c;
  };
  // Exact (5), sparse (60 and 200) and dense (2000), overlapping.
  const std::vector<std::pair<uint64_t, uint64_t>> spans = {{0, 5}, {3, 60}, {40, 200}, {100, 2000}};
  for (const auto& [a_from, a_n] : spans)
    for (const auto& [b_from, b_n] : spans) {
      distinct_counter a = fill(a_from, a_n);
      const distinct_counter b = fill(b_from, b_n);
      reference_registers reference;
      for (uint64_t i = a_from; i < a_from + a_n; ++i) reference.add(hash_of(i));
      for (uint64_t i = b_from; i < b_from + b_n; ++i) reference.add(hash_of(i));
      a.merge(b);
      INFO(a_n << " merged with " << b_n);
      if (a.exact()) continue;  // both exact and small: checked above
      CHECK(registers_of(a) == reference.r);
      CHECK(a.count() == reference.estimate());
    }
}

TEST_CASE("a counter moved from is empty and usable") {
  distinct_counter a;
  for (uint64_t i = 0; i < 100; ++i) a.add(hash_of(i));
  distinct_counter b = std::move(a);
  CHECK(b.count() > 90);
  CHECK(a.exact());  // NOLINT(bugprone-use-after-move): the documented state
  CHECK(a.count() == 0);
  a.add(hash_of(1));
  CHECK(a.count() == 1);
}

TEST_CASE("a sparse counter saves its set registers only, and reads back the dense form of older state") {
  distinct_counter sparse, dense;
  for (uint64_t i = 0; i < 40; ++i) sparse.add(hash_of(i));
  for (uint64_t i = 0; i < 5000; ++i) dense.add(hash_of(i));
  REQUIRE(sparse.sparse());
  REQUIRE_FALSE(dense.sparse());
  state_writer w;
  sparse.save(w);
  dense.save(w);
  const std::string saved = w.take();
  // 40 hashes set at most 40 registers: 4 bytes each, not 4 KiB.
  CHECK(saved.size() < distinct_counter::register_count + 40 * 4 + 64);
  state_reader r(saved);
  distinct_counter sparse2, dense2;
  sparse2.restore(r);
  dense2.restore(r);
  CHECK(sparse2.sparse());
  CHECK(registers_of(sparse2) == registers_of(sparse));
  CHECK(dense2.count() == dense.count());

  // State format 3 saved every counter past the exact range as 4096 bytes.
  state_writer old;
  old.boolean(true);
  const auto registers = registers_of(sparse);
  old.bin(registers.data(), registers.size());
  const std::string old_saved = old.take();
  state_reader old_reader(old_saved);
  distinct_counter from_old;
  from_old.restore(old_reader);
  CHECK(from_old.sparse());
  CHECK(from_old.count() == sparse.count());
}

TEST_CASE("damaged sparse registers are refused, never counted") {
  auto restore_bytes = [](const std::vector<uint8_t>& bytes) {
    state_writer w;
    w.boolean(true);
    w.bin(bytes.data(), bytes.size());
    const std::string saved = w.take();
    state_reader r(saved);
    distinct_counter c;
    c.restore(r);
    return c;
  };
  auto entry = [](uint32_t index, uint8_t rank) {
    const uint32_t e = (index << 8) | rank;
    return std::vector<uint8_t>{static_cast<uint8_t>(e), static_cast<uint8_t>(e >> 8), static_cast<uint8_t>(e >> 16),
                                static_cast<uint8_t>(e >> 24)};
  };
  auto join = [](std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  CHECK(restore_bytes(join(entry(1, 3), entry(7, 2))).count() == 2);
  CHECK_THROWS_WITH(restore_bytes(join(entry(7, 3), entry(1, 2))), Catch::Contains("damaged"));  // out of order
  CHECK_THROWS_WITH(restore_bytes(entry(5000, 3)), Catch::Contains("damaged"));                  // no such register
  CHECK_THROWS_WITH(restore_bytes(entry(5, 0)), Catch::Contains("damaged"));                     // a zero entry
  CHECK_THROWS_WITH(restore_bytes(entry(5, 60)), Catch::Contains("damaged"));                    // rank beyond 53
  CHECK_THROWS_WITH(restore_bytes({1, 2, 3}), Catch::Contains("3 bytes of registers"));
}
