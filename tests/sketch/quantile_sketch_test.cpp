#include <algorithm>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "sketch/quantile_sketch.hpp"

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
