#include <catch2/catch.hpp>
#include <httplib.h>

#include "metrics/http_endpoint.hpp"
#include "metrics/registry.hpp"

using namespace vigil;

TEST_CASE("the registry renders Prometheus text: help, type, escaped labels, hooks read at scrape time") {
  metrics_registry r;
  r.describe("vigil_peer_up", metrics_registry::kind::gauge, "1 while the peer is heard from.");
  r.describe("vigil_rollbacks_total", metrics_registry::kind::counter, "Rollbacks.");
  r.set("vigil_peer_up", {{"peer", "agent-1"}}, 1);
  r.set("vigil_peer_up", {{"peer", "we\"ird\\name\n"}}, 0);
  r.add("vigil_rollbacks_total", {});
  r.add("vigil_rollbacks_total", {}, 2);
  double scraped = 0;
  r.on_render([&](metrics_registry& m) { m.set("vigil_peer_up", {{"peer", "agent-2"}}, ++scraped); });
  const std::string text = r.render();
  CHECK(text.find("# HELP vigil_peer_up 1 while the peer is heard from.\n# TYPE vigil_peer_up gauge\n") != std::string::npos);
  CHECK(text.find("vigil_peer_up{peer=\"agent-1\"} 1\n") != std::string::npos);
  CHECK(text.find("vigil_peer_up{peer=\"agent-2\"} 1\n") != std::string::npos);
  CHECK(text.find("vigil_peer_up{peer=\"we\\\"ird\\\\name\\n\"} 0\n") != std::string::npos);
  CHECK(text.find("# TYPE vigil_rollbacks_total counter\nvigil_rollbacks_total 3\n") != std::string::npos);
  CHECK(r.render().find("vigil_peer_up{peer=\"agent-2\"} 2\n") != std::string::npos);
}

TEST_CASE("the HTTP endpoint serves /metrics, /healthz and /readyz on loopback, and says where it cannot listen") {
  auto registry = std::make_shared<metrics_registry>();
  registry->describe("vigil_up", metrics_registry::kind::gauge, "Up.");
  registry->set("vigil_up", {}, 1);
  std::atomic<bool> ready{false};
  http_endpoint endpoint("127.0.0.1:0", registry, [&] { return ready.load(); });
  REQUIRE(endpoint.port() > 0);
  httplib::Client client("127.0.0.1", endpoint.port());
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type").find("version=0.0.4") != std::string::npos);
  CHECK(metrics->body.find("vigil_up 1\n") != std::string::npos);
  CHECK(client.Get("/healthz")->status == 200);
  CHECK(client.Get("/readyz")->status == 503);
  ready = true;
  CHECK(client.Get("/readyz")->status == 200);
  CHECK(client.Get("/nothing")->status == 404);
  try {
    http_endpoint clash("127.0.0.1:" + std::to_string(endpoint.port()), registry, [] { return true; });
    FAIL("a second endpoint on a port in use started");
  } catch (const std::runtime_error& ex) {
    CHECK(std::string(ex.what()).find("cannot listen there") != std::string::npos);
  }
}
