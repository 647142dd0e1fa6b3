#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "sketch/quantile_sketch.hpp"
#include "state/state_codec.hpp"

using namespace vigil;

namespace {

double exact(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

} // namespace

TEST_CASE("sketch quantiles stay within the stated relative error of exact ones") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(9.0, 1.5);  // microseconds, heavy tail
  quantile_sketch s(0.01);
  std::vector<double> values;
  for (int i = 0; i < 200000; ++i) {
    double v = std::round(latency(rng));
    values.push_back(v);
    s.add(v);
  }
  for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    double e = exact(values, q);
    INFO("q=" << q << " exact=" << e << " sketch=" << s.quantile(q));
    CHECK(std::abs(s.quantile(q) - e) <= 0.01 * e + 1e-9);
  }
  CHECK(s.max() == *std::max_element(values.begin(), values.end()));
  CHECK(s.buckets() < 2000);
}

TEST_CASE("merged sketches answer as one sketch over all values") {
  quantile_sketch a, b, all;
  for (int i = 1; i <= 1000; ++i) {
    (i % 2 ? a : b).add(i * 10.0);
    all.add(i * 10.0);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  for (double q : {0.5, 0.99}) CHECK(a.quantile(q) == all.quantile(q));
  quantile_sketch empty;
  CHECK(empty.quantile(0.5) == 0);
  quantile_sketch zeros;
  zeros.add(0, 3);
  zeros.add(500);
  CHECK(zeros.quantile(0.5) == 0);
  CHECK(zeros.quantile(1.0) == Approx(500).epsilon(0.01));
}

namespace {

/// Bucket counts kept by hand, and the quantile the array form answered
/// from them: the reference the list form must match exactly.
struct reference_buckets {
  std::map<int32_t, uint64_t> counts;
  uint64_t zeros = 0, total = 0;
  double max = 0;
  void add(double v) {
    ++total;
    max = std::max(max, v);
    if (v < 1) ++zeros;
    else ++counts[quantile_sketch::bucket_of(v)];
  }
  double quantile(double q) const {
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
    rank = std::max<uint64_t>(rank, 1);
    if (rank <= zeros) return 0;
    const double gamma = 1.01 / 0.99;
    uint64_t seen = zeros;
    for (const auto& [k, n] : counts) {
      seen += n;
      if (seen >= rank) return std::min(2 * std::pow(gamma, k) / (gamma + 1), max);
    }
    return max;
  }
};

std::string saved(const quantile_sketch& s) {
  state_writer w;
  s.save(w);
  return w.take();
}

} // namespace

TEST_CASE("a sketch of few buckets keeps them as a list and answers exactly as the array does") {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> latency(9.0, 2.0);
  quantile_sketch s;
  reference_buckets reference;
  bool saw_list = false, saw_array = false;
  for (int i = 0; i < 3000; ++i) {
    const double v = i % 17 == 0 ? 0.0 : latency(rng);
    s.add(v);
    reference.add(v);
    (s.sparse() ? saw_list : saw_array) = true;
    INFO("after " << i + 1 << " values, " << (s.sparse() ? "list" : "array"));
    REQUIRE(s.buckets() == reference.counts.size() + (reference.zeros > 0));
    for (double q : {0.01, 0.5, 0.9, 0.99, 1.0}) REQUIRE(s.quantile(q) == reference.quantile(q));
    // Saved and restored (the array form on disk), it answers the same.
    if (i % 97 == 0) {
      const std::string bytes = saved(s);
      state_reader r(bytes);
      quantile_sketch back;
      back.restore(r);
      REQUIRE(back.sparse() == (reference.counts.size() <= quantile_sketch::sparse_buckets));
      for (double q : {0.5, 0.99}) REQUIRE(back.quantile(q) == s.quantile(q));
      REQUIRE(saved(back) == bytes);
    }
  }
  CHECK(saw_list);
  CHECK(saw_array);
}

TEST_CASE("merging list and array sketches in any order counts every value once") {
  auto fill = [](uint64_t seed, int n) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> latency(8.0, 2.5);
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(latency(rng));
    return v;
  };
  const std::vector<std::vector<double>> sets = {fill(1, 3), fill(2, 20), fill(3, 2000)};
  for (const auto& a : sets)
    for (const auto& b : sets) {
      quantile_sketch sa, sb;
      reference_buckets reference;
      for (double v : a) sa.add(v), reference.add(v);
      for (double v : b) sb.add(v), reference.add(v);
      sa.merge(sb);
      INFO(a.size() << " merged with " << b.size());
      CHECK(sa.count() == a.size() + b.size());
      for (double q : {0.01, 0.5, 0.99, 1.0}) CHECK(sa.quantile(q) == reference.quantile(q));
    }
}
