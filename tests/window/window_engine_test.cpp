#include <map>
#include <random>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "enrich/route_template.hpp"
#include "state/state_codec.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

namespace {

window_config tumbling(std::vector<std::string> group_by = {}, int64_t lateness_ms = 0) {
  window_config c;
  c.name = "minute";
  c.type = window_type::tumbling;
  c.size = duration_ms{60000};
  c.group_by = std::move(group_by);
  c.allowed_lateness = duration_ms{lateness_ms};
  return c;
}

window_event ev(int64_t t, std::string_view ip = "10.0.0.1", uint16_t status = 200,
                uint64_t bytes = 100, int64_t rt = -1) {
  window_event e;
  e.time_ms = t;
  e.ip = ip;
  e.status = status;
  e.bytes = bytes;
  e.path = "/";
  e.method = "GET";
  e.user_agent = "ua";
  e.request_time_us = rt;
  e.prepare();
  return e;
}

double metric(const window_result& r, const char* name) { return *r.metrics.value(name); }

/// A per-IP window: a minute's tumbling one, or sessions of a 30 s gap.
window_config per_ip(bool sessions) {
  window_config c = tumbling({"ip"});
  if (sessions) {
    c.type = window_type::session;
    c.gap = duration_ms{30000};
  }
  return c;
}

} // namespace

TEST_CASE("tumbling windows are half-open and aligned to the epoch") {
  window_engine w{tumbling()};
  std::vector<window_result> out;
  w.add(ev(59999), out);
  w.add(ev(60000), out);  // the next window: closes the first
  REQUIRE(out.size() == 1);
  CHECK(out[0].start_ms == 0);
  CHECK(out[0].end_ms == 60000);
  CHECK(metric(out[0], "requests") == 1);
  w.flush(out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].start_ms == 60000);
  auto j = nlohmann::json::parse(to_json(out[1]));
  CHECK(j["window"]["start"] == "1970-01-01T00:01:00Z");
  CHECK(j["window"]["end"] == "1970-01-01T00:02:00Z");
  CHECK(j["group"].empty());
  CHECK(j["metrics"]["requests"] == 1);
  CHECK_FALSE(j["metrics"].contains("latency_p99"));  // no request times
}

TEST_CASE("an out-of-order event within the lateness is merged, a later one is counted and dropped") {
  window_engine w{tumbling({}, 10000)};
  std::vector<window_result> out;
  w.add(ev(30000), out);
  w.add(ev(65000), out);  // watermark 55 s: minute 0 still open
  w.add(ev(50000), out);  // late but within lateness: merged
  CHECK(out.empty());
  w.add(ev(71000), out);  // watermark 61 s: minute 0 closes with 2 requests
  REQUIRE(out.size() == 1);
  CHECK(metric(out[0], "requests") == 2);
  w.add(ev(40000), out);  // minute 0 is closed: dropped, counted
  CHECK(w.late_dropped() == 1);
  w.flush(out);
  REQUIRE(out.size() == 2);
  CHECK(metric(out[1], "requests") == 2);  // 65 s and 71 s
}

TEST_CASE("grouped and sliding windows equal a reference computation over the same events") {
  std::mt19937_64 rng(7);
  const char* ips[] = {"a", "b", "c", "d"};
  std::vector<window_event> events;
  std::vector<std::string> ip_of;
  for (int i = 0; i < 20000; ++i) {
    int64_t t = i * 30 + static_cast<int64_t>(rng() % 20000);  // up to 20 s out of order
    uint16_t status = rng() % 10 == 0 ? 404 : (rng() % 20 == 0 ? 500 : 200);
    events.push_back(ev(t, ips[rng() % 4], status, rng() % 1000, static_cast<int64_t>(1000 + rng() % 100000)));
  }
  for (const char* type : {"tumbling", "sliding"}) {
    SECTION(type) {
      window_config c = tumbling({"ip", "status"}, 15000);
      if (std::string(type) == "sliding") {
        c.type = window_type::sliding;
        c.slide = duration_ms{20000};
      }
      const int64_t slide = c.type == window_type::sliding ? 20000 : 60000;
      window_engine w{c};
      std::vector<window_result> out;
      for (const auto& e : events) w.add(e, out);
      w.flush(out);

      // Reference: the same watermark rule, applied one event at a time.
      struct ref { uint64_t requests = 0, bytes = 0; std::vector<double> rt; };
      std::map<std::tuple<int64_t, std::string, int>, ref> expect;
      int64_t max_t = INT64_MIN;
      uint64_t late = 0;
      for (const auto& e : events) {
        int64_t wm = max_t == INT64_MIN ? INT64_MIN : max_t - 15000;
        int64_t last_start = e.time_ms / slide * slide;
        if (wm != INT64_MIN && last_start + 60000 <= wm) {
          ++late;
        } else {
          for (int64_t s = last_start; s > e.time_ms - 60000; s -= slide) {
            if (wm != INT64_MIN && s + 60000 <= wm) break;
            auto& r = expect[{s, std::string(e.ip), e.status}];
            ++r.requests;
            r.bytes += e.bytes;
            r.rt.push_back(static_cast<double>(e.request_time_us));
          }
        }
        max_t = std::max(max_t, e.time_ms);
      }
      CHECK(w.late_dropped() == late);
      if (c.type == window_type::tumbling) CHECK(late > 0);  // 20 s of disorder reaches past 15 s
      REQUIRE(out.size() == expect.size());
      for (const auto& r : out) {
        auto key = std::make_tuple(r.start_ms, r.group[0].second, std::stoi(r.group[1].second));
        REQUIRE(expect.count(key) == 1);
        auto& x = expect[key];
        CHECK(metric(r, "requests") == x.requests);
        CHECK(metric(r, "bytes") == x.bytes);
        std::sort(x.rt.begin(), x.rt.end());
        double p99 = x.rt[std::max<size_t>(1, static_cast<size_t>(std::ceil(0.99 * x.rt.size()))) - 1];
        CHECK(std::abs(metric(r, "latency_p99") - p99) <= 0.01 * p99 + 1);
      }
    }
  }
}

TEST_CASE("session windows close after the gap and merge sessions an event bridges") {
  window_config c;
  c.name = "visit";
  c.type = window_type::session;
  c.gap = duration_ms{30000};
  c.group_by = {"ip"};
  window_engine w{c};
  std::vector<window_result> out;
  w.add(ev(0, "a"), out);
  w.add(ev(10000, "a"), out);
  w.add(ev(100000, "a"), out);  // watermark 100 s: [0, 40 s) is over
  REQUIRE(out.size() == 1);
  CHECK(out[0].start_ms == 0);
  CHECK(out[0].end_ms == 40000);
  CHECK(metric(out[0], "requests") == 2);
  w.add(ev(160000, "a"), out);  // 60 s after: a new session; the one at 100 s closes
  w.add(ev(180000, "a"), out);
  w.add(ev(140000, "a"), out);  // behind the watermark (180 s), but the open session takes it
  w.add(ev(20000, "a"), out);   // nothing open takes it and [20 s, 50 s) is over: late
  w.flush(out);
  REQUIRE(out.size() == 3);
  CHECK(out[1].start_ms == 100000);
  CHECK(metric(out[1], "requests") == 1);
  CHECK(out[2].start_ms == 140000);
  CHECK(out[2].end_ms == 210000);
  CHECK(metric(out[2], "requests") == 3);
  CHECK(w.late_dropped() == 1);
}

TEST_CASE("keys beyond the cap are counted in their network's group, then in one overflow group") {
  window_config c = tumbling({"ip"});
  c.max_groups = 2;
  window_engine w{c};
  std::vector<window_result> out;
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.7.9", "2001:db8:1:2::5", "2001:db8:1:2:ff::1",
                         "not-an-ip"})
    w.add(ev(1000, ip), out);
  CHECK(w.groups_dropped() == 5);
  // Past max_groups + the budget (16 here) every other key meets in "(overflow)".
  for (int i = 0; i < 40; ++i) w.add(ev(1000, "192.168." + std::to_string(i) + ".1"), out);
  w.flush(out);
  std::map<std::string, double> requests;
  for (const auto& r : out) requests[r.group.at(0).second] = metric(r, "requests");
  CHECK(requests["10.0.0.1"] == 2);
  CHECK(requests["10.0.0.2"] == 1);
  CHECK(requests["10.0.0.0/24"] == 1);  // 10.0.0.3
  CHECK(requests["10.0.7.0/24"] == 1);
  CHECK(requests["2001:db8:1:2::/64"] == 2);  // one host's /64, whatever address it takes
  // 6 groups open before the 40: 12 more networks fit the budget of 18.
  CHECK(requests["(overflow)"] == 1 + (40 - (18 - 6)));
  CHECK(out.size() == 18);
  double total = 0;
  for (const auto& r : out) total += metric(r, "requests");
  CHECK(total == 48);  // nothing lost

  window_config sc;
  sc.name = "visit";
  sc.type = window_type::session;
  sc.gap = duration_ms{30000};
  sc.group_by = {"ip"};
  sc.max_groups = 2;
  window_engine sessions{sc};
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.4"}) sessions.add(ev(1000, ip), out);
  CHECK(sessions.open_groups() == 3);
  CHECK(sessions.groups_dropped() == 2);
  out.clear();
  sessions.flush(out);
  REQUIRE(out.size() == 3);
  std::map<std::string, double> visits;
  for (const auto& r : out) visits[r.group.at(0).second] = metric(r, "requests");
  CHECK(visits["10.0.0.0/24"] == 2);
  CHECK(visits["10.0.0.1"] == 2);
}

TEST_CASE("overflow groups stay overflow groups across a checkpoint: a restart counts the overflow after it in them") {
  for (const bool sessions : {false, true}) {
    INFO((sessions ? "sessions" : "tumbling"));
    window_config c = per_ip(sessions);
    c.max_groups = 2;
    std::vector<std::string> ips;
    for (int i = 0; i < 60; ++i) ips.push_back("192.168." + std::to_string(i % 30) + "." + std::to_string(i));
    window_engine whole{c}, first{c};
    std::vector<window_result> a, b;
    for (size_t i = 0; i < ips.size(); ++i) {
      whole.add(ev(1000 + static_cast<int64_t>(i), ips[i]), a);
      if (i < 30) first.add(ev(1000 + static_cast<int64_t>(i), ips[i]), b);
    }
    const std::string saved = first.save();
    window_engine second{c};
    state_reader r(saved);
    second.restore(r);
    for (size_t i = 30; i < ips.size(); ++i) second.add(ev(1000 + static_cast<int64_t>(i), ips[i]), b);
    CHECK(second.open_groups() == whole.open_groups());
    whole.flush(a);
    second.flush(b);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(to_json(a[i]) == to_json(b[i]));
  }
}

TEST_CASE("a restart adopts the group tables' hash seed, and a checkpoint from before seeds (format 5) still restores") {
  for (const bool sessions : {false, true}) {
    INFO((sessions ? "sessions" : "tumbling"));
    window_config c = per_ip(sessions);
    window_engine first{c};
    std::vector<window_result> a;
    for (int i = 0; i < 2000; ++i)
      first.add(ev(1000 + i, "10." + std::to_string(i % 7) + ".0." + std::to_string(i)), a);
    const std::string saved = first.save();
    auto seed_of = [](const std::string& bytes) {
      state_reader r(bytes);
      r.str();
      REQUIRE((r.u64() & 2) == 2);  // the seed follows the kind
      return r.u64();
    };
    // The restored engine keeps the seed it was saved with (its groups go
    // back in table order); another engine draws its own.
    window_engine second{c};
    {
      state_reader r(saved);
      second.restore(r);
    }
    CHECK(seed_of(second.save()) == seed_of(saved));
    window_engine fresh{c};
    CHECK(seed_of(fresh.save()) != seed_of(saved));

    // As format 5 wrote it: the kind without the seed flag, and no seed.
    state_reader header(saved);
    const std::string name = header.str();
    const uint64_t kind = header.u64();
    REQUIRE((kind & 2) == 2);
    const uint64_t seed = header.u64();
    state_writer with_seed, without;
    with_seed.str(name);
    with_seed.u64(kind);
    with_seed.u64(seed);
    without.str(name);
    without.u64(kind & ~uint64_t{2});
    const std::string old_format = without.take() + saved.substr(with_seed.size());
    window_engine third{c};
    {
      state_reader r(old_format);
      third.restore(r);
    }
    CHECK(third.open_groups() == first.open_groups());
    std::vector<window_result> expected, got;
    first.flush(expected);
    third.flush(got);
    REQUIRE(expected.size() == 2000);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(to_json(got[i]) == to_json(expected[i]));
  }
}

TEST_CASE("a group's byte count past 4 GiB stays exact, in its result and across a checkpoint") {
  window_config c = tumbling({"ip"});
  window_engine first{c};
  std::vector<window_result> out;
  const uint64_t big = 3'000'000'000;  // three of them: past what 4 bytes hold
  for (int i = 0; i < 3; ++i) first.add(ev(1000 + i, "10.0.0.1", 200, big), out);
  first.add(ev(1100, "10.0.0.2", 200, 5), out);
  const std::string saved = first.save();
  window_engine second{c};
  state_reader r(saved);
  second.restore(r);
  second.add(ev(1200, "10.0.0.1", 404, 1), out);
  second.flush(out);
  REQUIRE(out.size() == 2);
  CHECK(metric(out[0], "bytes") == 3 * static_cast<double>(big) + 1);
  CHECK(metric(out[0], "requests") == 4);
  CHECK(metric(out[0], "status_404") == 1);
  CHECK(metric(out[1], "bytes") == 5);
}

TEST_CASE("metrics: rates, status classes, probes, bots and distinct counts") {
  window_engine w{tumbling()};
  std::vector<window_result> out;
  auto e1 = ev(1000, "a", 500);
  auto e2 = ev(2000, "b", 404);
  e2.classes = mask_of(signature_class::probe);
  e2.path = "/.env";
  auto e3 = ev(3000, "a", 200);
  e3.classes = mask_of(signature_class::bot);
  auto e4 = ev(4000, "a", 200);
  e4.classes = mask_of(signature_class::static_file);
  e4.path = "/x.css";
  for (auto* e : {&e1, &e2, &e3, &e4}) {
    e->prepare();  // fields changed after ev()
    w.add(*e, out);
  }
  w.flush(out);
  REQUIRE(out.size() == 1);
  CHECK(metric(out[0], "requests") == 4);
  CHECK(metric(out[0], "error_rate") == 0.25);
  CHECK(metric(out[0], "client_error_rate") == 0.25);
  CHECK(metric(out[0], "status_404") == 1);
  CHECK(metric(out[0], "probes") == 1);
  CHECK(metric(out[0], "bots") == 1);
  CHECK(metric(out[0], "page_views") == 1);  // e3: e1 and e2 >= 400, e4 static
  CHECK(metric(out[0], "visitors") == 2);
  CHECK(metric(out[0], "distinct_paths") == 3);
}

TEST_CASE("route templates replace ids") {
  CHECK(route_of("/products/123") == "/products/:id");
  CHECK(route_of("/u/42/orders/7/items") == "/u/:id/orders/:id/items");
  CHECK(route_of("/o/0f8fad5b-d9cb-469f-a165-70867728950e") == "/o/:id");
  CHECK(route_of("/about") == "/about");
  CHECK(route_of("/") == "/");
}

TEST_CASE("a group value over 256 bytes is cut with a hash of the whole: long keys stay apart and cost bounded memory") {
  window_config c = tumbling({"user_agent"});
  window_engine w{c};
  std::vector<window_result> out;
  const std::string long_a(32 * 1024, 'a');
  std::string long_b = long_a;
  long_b.back() = 'b';  // differs only in its last byte
  const std::vector<std::string> agents{long_a, long_b, long_a};
  for (const auto& ua : agents) {
    auto e = ev(1000);
    e.user_agent = ua;
    e.prepare();
    w.add(e, out);
  }
  auto e = ev(1000);
  e.user_agent = "short";
  e.prepare();
  w.add(e, out);
  CHECK(w.values_cut() == 3);
  w.flush(out);
  REQUIRE(out.size() == 3);
  std::map<std::string, double> by_agent;
  for (const auto& r : out) {
    CHECK(r.group.at(0).second.size() <= window_engine::max_group_value_bytes);
    by_agent[r.group.at(0).second] = metric(r, "requests");
  }
  CHECK(by_agent["short"] == 1);
  size_t twice = 0, once = 0;
  for (const auto& [agent, n] : by_agent)
    if (agent != "short") {
      CHECK(agent.rfind(std::string(200, 'a'), 0) == 0);
      (n == 2 ? twice : once) += 1;
    }
  CHECK(twice == 1);
  CHECK(once == 1);
}

TEST_CASE("group values with separator-like bytes stay apart, come back exact, and close in the order of their values") {
  // Values holding NUL, \x01 and \x1f (the old separator), and values one
  // of which ends where the other's next field begins: every pair was a
  // different group, none may merge, and each keeps its values exactly,
  // through a checkpoint too.
  window_config c = tumbling({"user_agent", "path"});
  const std::vector<std::pair<std::string, std::string>> groups{
    {"a", "b\x1f" "c"}, {"a\x1f" "b", "c"}, {std::string("a\0b", 3), "c"}, {"a", std::string("b\0c", 3)},
    {"a\x01", "c"}, {"a", "\x01\x02"}, {"", "a"}, {"a", ""}, {std::string(1, '\0'), ""}, {"a", "b"}};
  auto feed = [&](window_engine& w, std::vector<window_result>& out, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      auto e = ev(1000 + static_cast<int64_t>(i));
      e.user_agent = groups[i % groups.size()].first;
      e.path = groups[i % groups.size()].second;
      e.prepare();
      w.add(e, out);
    }
  };
  window_engine whole{c}, first{c};
  std::vector<window_result> a, b;
  feed(whole, a, 0, 30);
  feed(first, b, 0, 15);
  const std::string saved = first.save();
  window_engine second{c};
  state_reader r(saved);
  second.restore(r);
  feed(second, b, 15, 30);
  whole.flush(a);
  second.flush(b);
  REQUIRE(a.size() == groups.size());
  REQUIRE(b.size() == groups.size());
  auto sorted = groups;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(i);
    CHECK(a[i].group.at(0).second == sorted[i].first);
    CHECK(a[i].group.at(1).second == sorted[i].second);
    CHECK(metric(a[i], "requests") == 3);
    CHECK(to_json(a[i]) == to_json(b[i]));
  }
}

TEST_CASE("max_state_bytes bounds a window instance by its groups' worst case: the keys beyond overflow") {
  window_config c = tumbling({"user_agent"});
  c.max_state_bytes = 1u << 20;  // a group of one field costs at most 1 KiB + 512 bytes
  window_engine w{c};
  CHECK(w.group_cap() == (1u << 20) / 1536);
  std::vector<window_result> out;
  for (int i = 0; i < 1000; ++i) {
    auto e = ev(1000);
    const std::string ua = std::string(1000, 'x') + std::to_string(i);
    e.user_agent = ua;
    e.prepare();
    w.add(e, out);
  }
  CHECK(w.open_groups() == w.group_cap() + 1);  // and the one "(overflow)"
  CHECK(w.groups_dropped() == 1000 - w.group_cap());
  // max_groups still binds when it is the smaller.
  c.max_groups = 10;
  CHECK(window_engine{c}.group_cap() == 10);
}
