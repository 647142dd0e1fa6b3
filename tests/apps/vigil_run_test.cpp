// Drives `vigil gen` and `vigil run` as a user would: real files, real
// inotify, real signals.

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;

std::string config_for(const test::temp_dir& dir) {
  std::string cfg = test::read_file(std::string(VIGIL_SOURCE_DIR) + "/config/demo.toml");
  // Point the demo config at the test's directory.
  for (std::string from : {"var/demo/access.log*", "var/demo/alerts.jsonl", "var/demo/minute.jsonl", "var/demo/state"}) {
    auto pos = cfg.find(from);
    REQUIRE(pos != std::string::npos);
    cfg.replace(pos, from.size(), dir / from.substr(9));
  }
  test::write_file(dir / "demo.toml", cfg);
  return dir / "demo.toml";
}

std::vector<json> jsonl(const std::string& path) {
  std::vector<json> out;
  std::string text = test::read_file(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    out.push_back(json::parse(text.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

bool has_alert(const std::vector<json>& alerts, const std::string& rule, const std::string& status,
               const std::string& ip = "") {
  for (const auto& a : alerts)
    if (a["rule"] == rule && a["status"] == status && (ip.empty() || a["key"]["ip"] == ip)) return true;
  return false;
}

} // namespace

TEST_CASE("vigil run --once: the injected incidents alert, and window totals equal vigil analyze") {
  test::temp_dir dir;
  const std::string cfg = config_for(dir);
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 100 --duration 10m --seed 5"
                                  " --start 2024-01-01T00:00:00Z --format combined_rt"
                                  " --inject scan,bruteforce,5xx,latency -o '" + (dir / "access.log")
                                  + "' --plan '" + (dir / "plan.json") + "' 2>/dev/null").exit_code == 0);
  auto run = test::run_command(bin + " run -c '" + cfg + "' --once 2>/dev/null");
  REQUIRE(run.exit_code == 0);
  auto plan = json::parse(test::read_file(dir / "plan.json"));
  auto alerts = jsonl(dir / "alerts.jsonl");
  CHECK(has_alert(alerts, "scanner", "firing", plan[0]["client"]));
  CHECK(has_alert(alerts, "brute_force", "firing", plan[1]["client"]));
  CHECK(has_alert(alerts, "high_error_rate", "firing"));
  CHECK(has_alert(alerts, "slow_api", "firing"));
  // --once closes every window: every firing alert has resolved.
  for (const auto& a : alerts)
    if (a["status"] == "firing") CHECK(has_alert(alerts, a["rule"], "resolved"));
  // The console sink printed them for people.
  CHECK(run.out.find("[firing] critical high_error_rate") != std::string::npos);

  uint64_t requests = 0, errors = 0;
  auto minutes = jsonl(dir / "minute.jsonl");
  CHECK(minutes.size() == 10);
  for (const auto& m : minutes) {
    requests += m["metrics"]["requests"].get<uint64_t>();
    errors += m["metrics"]["status_5xx"].get<uint64_t>();
  }
  auto analyze = test::run_command(bin + " analyze '" + (dir / "access.log") + "' --json -");
  REQUIRE(analyze.exit_code == 0);
  auto report = json::parse(analyze.out);
  CHECK(requests == report["summary"]["valid_requests"].get<uint64_t>());
  CHECK(errors == report["status_classes"]["5xx"].get<uint64_t>());
}

TEST_CASE("vigil run follows a growing file live and stops cleanly on SIGTERM") {
  test::temp_dir dir;
  const std::string cfg = config_for(dir);
  test::write_file(dir / "access.log", "");
  auto log = dir / "run.log";
  // Started in the background; a wrapper shell records its pid and exit code.
  test::run_command("( '" + bin + "' run -c '" + cfg + "' > '" + log + "' 2>&1 & echo $! > '"
                    + (dir / "pid") + "'; wait $!; echo $? > '" + (dir / "rc") + "' ) > /dev/null 2>&1 &");
  for (int i = 0; i < 50 && test::read_file(dir / "pid").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int pid = std::stoi(test::read_file(dir / "pid"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 50 --duration 4m --seed 9"
                                  " --start 2024-01-01T00:00:00Z --inject scan -o '" + (dir / "access.log")
                                  + "' --plan '" + (dir / "plan.json") + "' 2>/dev/null").exit_code == 0);
  auto plan = json::parse(test::read_file(dir / "plan.json"));
  bool alerted = false;
  for (int i = 0; i < 200 && !alerted; ++i) {  // up to 20 s: a loaded CI machine
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::filesystem::exists(dir / "alerts.jsonl"))
      alerted = has_alert(jsonl(dir / "alerts.jsonl"), "scanner", "firing", plan[0]["client"]);
  }
  CHECK(alerted);
  REQUIRE(::kill(pid, SIGTERM) == 0);
  std::string rc;
  for (int i = 0; i < 100 && rc.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rc = test::read_file(dir / "rc");
  }
  CHECK(rc == "0\n");  // a clean exit
  CHECK(test::read_file(log).find("SIGTERM received, stopping") != std::string::npos);
}

TEST_CASE("vigil run refuses a bad config with exit code 2") {
  test::temp_dir dir;
  test::write_file(dir / "bad.toml", "[node]\nname = \"x\"\n");
  CHECK(test::run_command(bin + " run -c '" + (dir / "bad.toml") + "' 2>/dev/null").exit_code == 2);
}

TEST_CASE("two runs over the same log write the same alerts: ids are stable across processes") {
  test::temp_dir dir;
  const std::string cfg = config_for(dir);
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 200 --duration 5m --seed 21"
                                  " --start 2024-01-01T00:00:00Z --inject scan,bruteforce,5xx -o '"
                                  + (dir / "access.log") + "' 2>/dev/null").exit_code == 0);
  auto alerts_of_a_run = [&] {
    std::filesystem::remove(dir / "alerts.jsonl");
    REQUIRE(test::run_command(bin + " run -c '" + cfg + "' --once > /dev/null 2>&1").exit_code == 0);
    std::vector<json> alerts = jsonl(dir / "alerts.jsonl");
    for (auto& a : alerts) a.erase("emitted_at");  // the wall clock: the only field allowed to differ
    return alerts;
  };
  auto first = alerts_of_a_run();
  auto second = alerts_of_a_run();
  REQUIRE(first.size() >= 4);
  CHECK(first == second);
}
