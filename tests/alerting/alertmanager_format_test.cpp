#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "alerting/alertmanager_format.hpp"
#include "messages/alert.hpp"

using namespace vigil;

namespace {

alert make(const std::string& status) {
  alert a;
  a.id = "00ff";
  a.rule = "slow_api";
  a.severity = "critical";
  a.status = status;
  a.key = {{"route", "/api/:id"}, {"owner-team", "web"}};
  a.value = 612000;
  a.threshold = 500000;
  a.window_start_ms = 60000;
  a.window_end_ms = 120000;
  a.first_seen_ms = 61000;
  a.emitted_at_ms = 125000;
  a.node = "web-1";
  a.summary = "slow_api for route /api/:id: latency_p99 612 ms (threshold 500 ms; ...)";
  return a;
}

} // namespace

TEST_CASE("alerts become Alertmanager alerts: labels, annotations, and endsAt by status") {
  alertmanager_format f;
  f.resend_interval_ms = 60000;
  f.generator_url = "http://127.0.0.1:9464/";
  const int64_t now = 200000;
  auto body = nlohmann::json::parse(alertmanager_body({to_json(make("firing")), to_json(make("resolved")), "junk"}, now, f));
  REQUIRE(body.size() == 2);  // the line that is not an alert is left out
  const auto& firing = body[0];
  CHECK(firing["labels"] == nlohmann::json({{"alertname", "slow_api"}, {"severity", "critical"}, {"node", "web-1"},
                                            {"route", "/api/:id"}, {"owner_team", "web"}}));
  CHECK(firing["annotations"]["summary"] == make("firing").summary);
  CHECK(firing["annotations"]["vigil_id"] == "00ff");
  CHECK(firing["annotations"]["window"] == "1970-01-01T00:01:00Z/1970-01-01T00:02:00Z");
  CHECK(firing["startsAt"] == "1970-01-01T00:01:01Z");
  CHECK(firing["endsAt"] == "1970-01-01T00:07:20Z");  // now + 4 x 1 m: never resolved by Alertmanager's timeout
  CHECK(firing["generatorURL"] == "http://127.0.0.1:9464/");
  CHECK(body[1]["endsAt"] == "1970-01-01T00:02:05Z");  // the resolve's own time
}

TEST_CASE("label names are made valid Prometheus label names") {
  CHECK(label_name("ip") == "ip");
  CHECK(label_name("owner-team") == "owner_team");
  CHECK(label_name("9lives") == "_9lives");
  CHECK(label_name("") == "_");
}
