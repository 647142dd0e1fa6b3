// Declared (business) metrics against a brute-force reference over random
// records: the window engine's groups, merges and checkpoints give what a
// plain loop over the same records gives.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "record/record_format.hpp"
#include "state/state_codec.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

namespace {

struct order {
  int64_t time_ms;
  std::string category, user, product, type;
  double total;
};

vigil_config orders_config() {
  vigil_config cfg;
  schema_config s;
  s.name = "o";
  for (auto [n, t] : std::vector<std::pair<std::string, field_type>>{
         {"category", field_type::string}, {"user", field_type::string}, {"product", field_type::string},
         {"type", field_type::string}, {"total", field_type::number}}) {
    schema_field f;
    f.name = n;
    f.type = t;
    s.fields.push_back(f);
  }
  cfg.schemas.push_back(s);
  return cfg;
}

// One batch holding `orders` as records.
event_batch batch_of(const std::vector<order>& orders, const record_layout& layout) {
  event_batch b;
  b.records.width = static_cast<uint32_t>(layout.size());
  for (const auto& o : orders) {
    for (const std::string* s : {&o.category, &o.user, &o.product, &o.type})
      b.records.values.push_back(field_value::of_text(b.append(*s)));
    b.records.values.push_back(field_value::of_number(o.total));
    record_info info;
    info.time_ms = o.time_ms;
    b.records.rows.push_back(info);
  }
  return b;
}

void feed(window_engine& engine, const event_batch& b, std::vector<window_result>& closed) {
  window_event e;
  e.record_text = b.text;
  e.prepared = true;
  for (size_t k = 0; k < b.records.size(); ++k) {
    e.time_ms = b.records.rows[k].time_ms;
    e.record = b.records.row(k);
    engine.add(e, closed);
  }
}

} // namespace

TEST_CASE("declared metrics: count, count(cond), sum, avg, min, max, distinct, quantile and top equal a brute-force reference") {
  const vigil_config cfg = orders_config();
  const record_layout layout = record_layout::of(cfg);
  window_config w;
  w.name = "minute";
  w.size = duration_ms(60000);
  w.group_by = {"category"};
  w.metrics = {{"orders", "count()"},
               {"purchases", "count(type == \"purchase\")"},
               {"revenue", "sum(total)"},
               {"avg_basket", "avg(total)"},
               {"cheapest", "min(total)"},
               {"dearest", "max(total)"},
               {"users", "distinct(user)"},
               {"p90", "quantile(total, 0.9)"},
               {"top_products", "top(product, 3)"},
               {"conversion", "count(type == \"purchase\") / count(type == \"view\")"},
               {"revenue_per_user", "sum(total) / distinct(user)"}};

  std::mt19937_64 rng(GENERATE(1, 2, 3));
  std::vector<order> orders;
  // Few users per group (distinct stays in its exact range) and up to 200
  // records per group (quantile stays exact).
  for (int i = 0; i < 1500; ++i) {
    order o;
    o.time_ms = 1704067200000 + static_cast<int64_t>(i) * 300;  // 7.5 minutes
    o.category = "c" + std::to_string(rng() % 3);
    o.user = "u" + std::to_string(rng() % 6);
    o.product = "p" + std::to_string(rng() % 7);
    o.type = rng() % 4 == 0 ? "purchase" : "view";
    o.total = static_cast<double>(rng() % 100000) / 100.0;
    orders.push_back(o);
  }

  // The engine, fed in batches of random size, with a checkpoint taken and
  // restored into a fresh engine halfway.
  window_engine engine(w, {}, &layout);
  std::vector<window_result> closed;
  size_t at = 0;
  bool restored = false;
  while (at < orders.size()) {
    const size_t n = std::min<size_t>(1 + rng() % 90, orders.size() - at);
    feed(engine, batch_of({orders.begin() + at, orders.begin() + at + n}, layout), closed);
    at += n;
    if (!restored && at > orders.size() / 2) {
      std::string saved = engine.save();
      window_engine fresh(w, {}, &layout);
      state_reader r(saved);
      fresh.restore(r);
      engine = std::move(fresh);
      restored = true;
    }
  }
  engine.flush(closed);

  // The reference: a plain loop.
  struct expected_group {
    std::vector<double> totals;
    std::set<std::string> users;
    std::map<std::string, uint64_t> products;
    uint64_t purchases = 0, views = 0;
  };
  std::map<std::pair<int64_t, std::string>, expected_group> expected;
  for (const auto& o : orders) {
    auto& g = expected[{o.time_ms / 60000 * 60000, o.category}];
    g.totals.push_back(o.total);
    g.users.insert(o.user);
    ++g.products[o.product];
    g.purchases += o.type == "purchase";
    g.views += o.type == "view";
  }
  REQUIRE(closed.size() == expected.size());
  for (const auto& r : closed) {
    const auto& g = expected.at({r.start_ms, r.group.at(0).second});
    const auto m = nlohmann::json::parse(to_json(r)).at("metrics");
    auto sorted = g.totals;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double t : g.totals) sum += t;
    INFO(to_json(r));
    CHECK(m.at("orders").get<double>() == g.totals.size());
    CHECK(m.at("purchases").get<double>() == g.purchases);
    CHECK(m.at("revenue").get<double>() == Approx(sum).epsilon(1e-12));
    CHECK(m.at("avg_basket").get<double>() == Approx(sum / g.totals.size()).epsilon(1e-12));
    CHECK(m.at("cheapest").get<double>() == sorted.front());
    CHECK(m.at("dearest").get<double>() == sorted.back());
    CHECK(m.at("users").get<double>() == g.users.size());
    const size_t rank = static_cast<size_t>(std::ceil(0.9 * sorted.size()));
    CHECK(m.at("p90").get<double>() == sorted[rank - 1]);
    if (g.views > 0) CHECK(m.at("conversion").get<double>() == Approx(double(g.purchases) / g.views));
    else CHECK(m.at("conversion").is_null());
    CHECK(m.at("revenue_per_user").get<double>() == Approx(sum / g.users.size()).epsilon(1e-12));
    // top(product, 3): the three most counted, ties by value.
    std::vector<std::pair<std::string, uint64_t>> top(g.products.begin(), g.products.end());
    std::sort(top.begin(), top.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    const auto& listed = m.at("top_products");
    REQUIRE(listed.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      CHECK(listed[i].at("value") == top[i].first);
      CHECK(listed[i].at("count").get<uint64_t>() == top[i].second);
    }
  }
}

TEST_CASE("declared metrics: past the exact range, distinct and quantile stay within their documented bounds") {
  const vigil_config cfg = orders_config();
  const record_layout layout = record_layout::of(cfg);
  window_config w;
  w.name = "all";
  w.size = duration_ms(3600000);
  w.metrics = {{"users", "distinct(user)"}, {"p50", "quantile(total, 0.5)"}, {"p99", "quantile(total, 0.99)"}};
  window_engine engine(w, {}, &layout);
  std::vector<order> orders;
  std::mt19937_64 rng(7);
  std::vector<double> totals;
  for (int i = 0; i < 20000; ++i) {
    order o{1704067200000 + i, "c", "user-" + std::to_string(i % 5000), "p", "view", 1 + static_cast<double>(rng() % 100000)};
    totals.push_back(o.total);
    orders.push_back(o);
  }
  std::vector<window_result> closed;
  feed(engine, batch_of(orders, layout), closed);
  engine.flush(closed);
  REQUIRE(closed.size() == 1);
  std::sort(totals.begin(), totals.end());
  const auto m = nlohmann::json::parse(to_json(closed[0])).at("metrics");
  CHECK(m.at("users").get<double>() == Approx(5000).epsilon(0.05));  // 1.6% standard error: 3 sigma
  CHECK(m.at("p50").get<double>() == Approx(totals[9999]).epsilon(0.01));
  CHECK(m.at("p99").get<double>() == Approx(totals[19799]).epsilon(0.01));
}

TEST_CASE("declared metrics: a metric that does not compile is refused with its name") {
  const vigil_config cfg = orders_config();
  const record_layout layout = record_layout::of(cfg);
  auto refused = [&](std::pair<std::string, std::string> metric) {
    std::string error;
    CHECK_FALSE(metric_plan::compile({metric}, layout, error));
    return error;
  };
  CHECK(refused({"revenue", "sum(totl)"}).find("metrics.revenue: unknown field 'totl' at position 5") == 0);
  CHECK(refused({"x", "total * 2"}) == "metrics.x: field 'total' outside an aggregate (write e.g. sum(total) or count())");
  CHECK(refused({"x", "1 + 2"}).find("metrics.x: no aggregate") == 0);
  CHECK(refused({"x", "quantile(total, 2)"}).find("quantile()'s second argument must be a number in (0, 1]") != std::string::npos);
  CHECK(refused({"x", "top(product, 3) + 1"}) == "metrics.x: top() must be the whole metric (it is a list)");
  CHECK(refused({"x", "sum(total, 2)"}).find("sum() takes 1 argument") != std::string::npos);
}
