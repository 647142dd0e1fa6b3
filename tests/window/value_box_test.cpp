#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "window/value_box.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

TEST_CASE("value_box: empty until asked for, copies deep, moves the value") {
  value_box<std::string> a;
  CHECK(a.find() == nullptr);
  a.get() = "sketch";
  REQUIRE(a.find() != nullptr);
  value_box<std::string> b = a;
  b.get() += " copy";
  CHECK(*a.find() == "sketch");
  CHECK(*b.find() == "sketch copy");
  value_box<std::string> c = std::move(b);
  CHECK(*c.find() == "sketch copy");
  b = c;
  CHECK(*b.find() == "sketch copy");
  c.reset();
  CHECK(c.find() == nullptr);
  b = c;
  CHECK(b.find() == nullptr);
}

TEST_CASE("a window group without request times has no latency values, and gains them with the first") {
  window_metrics m;
  window_event e;
  e.ip = "10.0.0.1";
  e.path = "/";
  e.status = 200;
  e.prepare();
  m.add(e);
  CHECK(m.value(window_metric::requests) == 1.0);
  CHECK_FALSE(m.value(window_metric::latency_p99));
  window_metrics with_latency = m;
  window_event timed = e;
  timed.request_time_us = 250000;
  timed.prepared = false;
  timed.prepare();
  with_latency.add(timed);
  REQUIRE(with_latency.value(window_metric::latency_max));
  CHECK(*with_latency.value(window_metric::latency_max) == 250000.0);
  CHECK_FALSE(m.value(window_metric::latency_max));  // the copy's sketch is its own
  m.merge(with_latency);
  REQUIRE(m.value(window_metric::latency_max));
  CHECK(*m.value(window_metric::latency_max) == 250000.0);
  CHECK(m.value(window_metric::requests) == 3.0);
}
