// Alerts reach a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager, started here on loopback): a scanner shows up as
// an active alert while its window is open, and is resolved once it closes.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;
const std::string alertmanager_bin = "/usr/bin/prometheus-alertmanager";


/// `n` lines of minute `minute` on 2024-01-01 from `ip` for `path`.
std::string lines(int n, int minute, const std::string& ip, const std::string& path, int status = 200) {
  std::string out;
  char buf[256];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s - - [01/Jan/2024:00:%02d:%02d +0000] \"GET %s HTTP/1.1\" %d 10 \"-\" \"ua\"\n",
                  ip.c_str(), minute, i % 60, path.c_str(), status);
    out += buf;
  }
  return out;
}

/// Alertmanager's alerts named `scanner` for `ip`, from its own API.
std::vector<json> scanner_alerts(httplib::Client& am, const std::string& ip) {
  std::vector<json> out;
  auto r = am.Get("/api/v2/alerts");
  if (!r || r->status != 200) return out;
  for (const auto& a : json::parse(r->body, nullptr, false))
    if (a.is_object() && a["labels"].value("alertname", "") == "scanner" && a["labels"].value("ip", "") == ip)
      out.push_back(a);
  return out;
}

} // namespace

TEST_CASE("a scanner reaches a real Alertmanager as an active alert, and is resolved when its window closes") {
  REQUIRE(std::filesystem::exists(alertmanager_bin));  // deploy/install-deps.sh installs it
  test::temp_dir dir;
  const int am_port = test::free_port();
  test::write_file(dir / "alertmanager.yml", "route:\n  receiver: 'none'\nreceivers:\n  - name: 'none'\n");
  pid_t am = test::spawn_process({alertmanager_bin, "--config.file=" + (dir / "alertmanager.yml"),
                                  "--storage.path=" + (dir / "am"), "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
                                  "--cluster.listen-address="},
                                 dir / "alertmanager.log");
  REQUIRE(am > 0);
  test::stop_at_exit stop_alertmanager{am};
  httplib::Client client("127.0.0.1", am_port);
  client.set_connection_timeout(2);
  REQUIRE(test::wait_until([&] {
    auto r = client.Get("/-/ready");
    return r && r->status == 200;
  }));

  const int node_port = test::free_port();
  const std::string ip = "203.0.113.9";
  std::string log = lines(200, 0, "10.0.0.1", "/index.html");
  for (const char* probe : {"/.env", "/.git/config", "/.aws/credentials", "/.htpasswd", "/.svn/entries", "/.env.bak"})
    log += lines(1, 0, ip, probe, 404);
  test::write_file(dir / "access.log", log);
  const std::string cfg =
    "[node]\nname = \"web-7\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"127.0.0.1:" + std::to_string(node_port)
    + "\"\ncheckpoint_interval = \"200ms\"\n\n"
    "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n\n"
    "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\n\n"
    "[[rule]]\nname = \"scanner\"\nwindow = \"ip_minute\"\nwhen = \"probes >= 5\"\nseverity = \"warning\"\n\n"
    "[[sink]]\nname = \"am\"\ntype = \"alertmanager\"\nurl = \"http://127.0.0.1:" + std::to_string(am_port)
    + "\"\nresend_interval = \"1s\"\n\n"
      "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\npath = \"" + (dir / "alerts.jsonl") + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  pid_t node = test::spawn_process({bin, "run", "-c", dir / "t.toml"}, dir / "run.log");
  REQUIRE(node > 0);

  std::vector<json> seen;
  const bool active = test::wait_until([&] {
    seen = scanner_alerts(client, ip);
    return seen.size() == 1 && seen[0]["status"].value("state", "") == "active";
  });
  INFO(test::read_file(dir / "run.log"));
  INFO(test::read_file(dir / "alerts.jsonl"));
  REQUIRE(active);
  const json& a = seen[0];
  CHECK(a["labels"]["severity"] == "warning");
  CHECK(a["labels"]["node"] == "web-7");
  CHECK(test::contains(a["annotations"].value("summary", ""), "scanner for ip " + ip + ": probes 6"));
  CHECK(a["annotations"]["threshold"] == "5.0");
  CHECK(a["annotations"]["window"] == "2024-01-01T00:00:00Z/2024-01-01T00:01:00Z");
  CHECK(a["startsAt"].get<std::string>().rfind("2024-01-01T00:00:", 0) == 0);

  // Minutes 1 and 3 arrive: minute 1 closes without the scanner in it, and
  // the alert resolves.
  {
    std::ofstream out(dir / "access.log", std::ios::app);
    out << lines(10, 1, "10.0.0.1", "/index.html") << lines(10, 3, "10.0.0.1", "/index.html");
  }
  const bool resolved = test::wait_until([&] {
    auto now = scanner_alerts(client, ip);
    return now.empty() || now[0]["status"].value("state", "") != "active";
  });
  CHECK(resolved);
  CHECK(test::contains(test::read_file(dir / "alerts.jsonl"), "\"status\":\"resolved\""));
  // The node counts what its sink delivered.
  httplib::Client node_client("127.0.0.1", node_port);
  auto metrics = node_client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(test::contains(metrics->body, "vigil_sink_retries_total{sink=\"am\"} 0\n"));
  CHECK(test::contains(metrics->body, "vigil_sink_dropped_total{sink=\"am\"} 0\n"));
  const auto at = metrics->body.find("vigil_sink_deliveries_total{sink=\"am\"} ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(metrics->body.substr(at + std::string("vigil_sink_deliveries_total{sink=\"am\"} ").size())) >= 2);  // the firing, the resolve (and resends)
  ::kill(node, SIGTERM);
  CHECK(test::wait_process(node) == 0);
}
