// Drives `vigil gen` and `vigil run` as a user would: real files, real
// inotify, real signals.

#include <chrono>
#include <fstream>
#include <sstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "support/state_poke.hpp"
#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;

std::string config_for(const test::temp_dir& dir) {
  std::string cfg = test::read_file(std::string(VIGIL_SOURCE_DIR) + "/config/demo.toml");
  // Point the demo config at the test's directory.
  for (std::string from : {"var/demo/access.log*", "var/demo/alerts.jsonl", "var/demo/minute.jsonl",
                           "var/demo/state", "var/demo/network_minute.jsonl", "var/demo/quarantine.jsonl"}) {
    auto pos = cfg.find(from);
    REQUIRE(pos != std::string::npos);
    cfg.replace(pos, from.size(), dir / from.substr(9));
  }
  // Tests run side by side: no dashboard port.
  const std::string http = "http = \"127.0.0.1:9464\"";
  cfg.replace(cfg.find(http), http.size(), "http = \"\"");
  const std::string table = "config/networks.csv";
  cfg.replace(cfg.find(table), table.size(), std::string(VIGIL_SOURCE_DIR) + "/" + table);
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
  // Lines no parser takes, in the middle of the log: quarantined with a reason.
  test::write_file(dir / "access.log.1", "garbage without structure\n\x01\x02binary\xff\n");
  auto run = test::run_command(bin + " run -c '" + cfg + "' --once 2>/dev/null");
  REQUIRE(run.exit_code == 0);
  auto plan = json::parse(test::read_file(dir / "plan.json"));
  auto quarantined = jsonl(dir / "quarantine.jsonl");
  REQUIRE(quarantined.size() == 2);
  CHECK(quarantined[0]["file"] == dir / "access.log.1");
  CHECK(quarantined[0]["offset"] == 0);
  CHECK(quarantined[0]["reason"] == "truncated");
  CHECK(quarantined[1]["reason"] == "not_utf8");
  auto alerts = jsonl(dir / "alerts.jsonl");
  CHECK(has_alert(alerts, "scanner", "firing", plan[0]["client"]));
  CHECK(has_alert(alerts, "brute_force", "firing", plan[1]["client"]));
  CHECK_FALSE(has_alert(alerts, "request_flood", "firing"));  // 100 lines/s in all: nobody floods
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

  // The dimension table labelled every event: the clients are 10.x
  // ("internal", "office" for 10.0.0.x), the injected ones are in the
  // documentation networks; agent classes split each.
  uint64_t labelled = 0;
  std::set<std::string> networks, classes;
  for (const auto& m : jsonl(dir / "network_minute.jsonl")) {
    labelled += m["metrics"]["requests"].get<uint64_t>();
    networks.insert(m["group"]["network"]);
    classes.insert(m["group"]["ua_class"]);
  }
  CHECK(labelled == requests);
  CHECK(networks == std::set<std::string>{"internal", "office", "documentation-a", "documentation-b"});
  CHECK(classes.count("browser"));
  CHECK(classes.count("bot"));
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

namespace {

/// A config of one source of `source_toml`, the scanner rule, and sinks
/// for alerts and minute results in `dir`.
std::string small_config(const test::temp_dir& dir, const std::string& source_toml,
                         const std::string& extra_sinks = "") {
  std::string cfg = "[node]\nname = \"t\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"\"\n\n"
                    "[[source]]\nname = \"in\"\n" + source_toml + "\n"
                    "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n\n"
                    "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\n\n"
                    "[[rule]]\nname = \"scanner\"\nwindow = \"ip_minute\"\nwhen = \"status_404 >= 20 || probes >= 5\"\n\n"
                    "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\ninput = \"alerts\"\npath = \"" + (dir / "alerts.jsonl") + "\"\n\n"
                    "[[sink]]\nname = \"minutes\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = \""
                    + (dir / "minute.jsonl") + "\"\n" + extra_sinks;
  test::write_file(dir / "t.toml", cfg);
  return dir / "t.toml";
}

uint64_t total_requests(const std::string& minute_jsonl) {
  uint64_t n = 0;
  for (const auto& m : jsonl(minute_jsonl)) n += m["metrics"]["requests"].get<uint64_t>();
  return n;
}

} // namespace

TEST_CASE("vigil run with a stdin source reads until the input closes, then closes its windows and exits 0") {
  test::temp_dir dir;
  const std::string cfg = small_config(dir, "type = \"stdin\"\nformat = \"combined\"\n");
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 50 --duration 3m --seed 4"
                                  " --start 2024-01-01T00:00:00Z --format combined --inject scan -o '"
                                  + (dir / "access.log") + "' --plan '" + (dir / "plan.json") + "' 2>/dev/null")
            .exit_code == 0);
  auto run = test::run_command("cat '" + (dir / "access.log") + "' | " + bin + " run -c '" + cfg + "' 2>&1");
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  auto plan = json::parse(test::read_file(dir / "plan.json"));
  CHECK(has_alert(jsonl(dir / "alerts.jsonl"), "scanner", "firing", plan[0]["client"]));
  CHECK(total_requests(dir / "minute.jsonl") == 9000 + plan[0]["lines"].get<uint64_t>());
}

namespace {

// A file source with a one-minute dedup_horizon.
std::string dedup_config(const test::temp_dir& dir) {
  return small_config(dir, "type = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n"
                           "dedup_horizon = \"1m\"\n");
}

// What `vigil state inspect` prints right after `label` (up to a space,
// colon or line end); "" when the label is not there.
std::string inspected(const test::temp_dir& dir, const std::string& label) {
  const auto r = test::run_command(bin + " state inspect --state-dir '" + (dir / "state") + "'");
  UNSCOPED_INFO(r.out);
  const auto at = r.out.find(label);
  if (r.exit_code != 0 || at == std::string::npos) return "";
  const auto from = at + label.size();
  return r.out.substr(from, r.out.find_first_of(" :\n", from) - from);
}

// 2,400 generated lines over two minutes (not yet where the source reads).
std::string two_minutes_of_log(const test::temp_dir& dir) {
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 20 --duration 2m --seed 8"
                                  " --start 2024-01-01T00:00:00Z --format combined -o '" + (dir / "gen.log")
                                  + "' 2>/dev/null").exit_code == 0);
  return test::read_file(dir / "gen.log");
}

} // namespace

TEST_CASE("dedup_horizon drops a block of lines shipped twice, and only that") {
  test::temp_dir dir;
  const std::string cfg = dedup_config(dir);
  const std::string text = two_minutes_of_log(dir);
  // The first 100 lines again, right after themselves: a resent block.
  size_t cut = 0;
  for (int i = 0; i < 100; ++i) cut = text.find('\n', cut) + 1;
  test::write_file(dir / "access.log", text.substr(0, cut) + text);
  REQUIRE(test::run_command(bin + " run -c '" + cfg + "' --once 2>/dev/null").exit_code == 0);
  CHECK(total_requests(dir / "minute.jsonl") == 2400);
}

TEST_CASE("dedup_horizon holds across a restart: a block resent after the stop is still dropped") {
  test::temp_dir dir;
  const std::string cfg = dedup_config(dir);
  const std::string text = two_minutes_of_log(dir);
  test::write_file(dir / "access.log", text);
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run1.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(pid, SIGTERM);
  REQUIRE(test::wait_process(pid) == 0);
  // The last 100 lines shipped again while the node was down.
  size_t cut = text.size() - 1;
  for (int i = 0; i < 100; ++i) cut = text.rfind('\n', cut - 1);
  std::ofstream(dir / "access.log", std::ios::app) << text.substr(cut + 1);
  // 2 minutes at 20 lines/s: the last minute's lines (and a little more).
  const std::string hashes = inspected(dir, "dedup:in: ");
  REQUIRE_FALSE(hashes.empty());
  const uint64_t remembered = std::stoull(hashes);
  CHECK(remembered >= 1200);
  CHECK(remembered < 2400);
  auto run2 = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(run2.out);
  REQUIRE(run2.exit_code == 0);
  CHECK(total_requests(dir / "minute.jsonl") == 2400);
}

TEST_CASE("a webhook sink POSTs the alerts the JSONL sink writes, grouped per rule") {
  httplib::Server server;
  std::mutex mu;
  std::vector<json> posted;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    posted.push_back(json::parse(req.body));
    res.status = 200;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serve([&] { server.listen_after_bind(); });

  test::temp_dir dir;
  const std::string cfg = small_config(
    dir, "type = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n",
    "\n[[sink]]\nname = \"hook\"\ntype = \"webhook\"\ninput = \"alerts\"\nurl = \"http://127.0.0.1:"
      + std::to_string(port) + "/hook\"\ngroup_wait = \"10s\"\n");
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 50 --duration 3m --seed 4"
                                  " --start 2024-01-01T00:00:00Z --format combined --inject scan -o '"
                                  + (dir / "access.log") + "' 2>/dev/null").exit_code == 0);
  auto run = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  server.stop();
  serve.join();
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  std::multiset<std::string> written, received;
  for (const auto& a : jsonl(dir / "alerts.jsonl")) written.insert(a["id"].get<std::string>() + a["status"].get<std::string>());
  REQUIRE(!written.empty());
  // group_wait outlasts the run: each rule and status left as one POST at shutdown.
  CHECK(posted.size() == 2);  // scanner firing, scanner resolved
  for (const auto& body : posted) {
    REQUIRE(body.is_array());
    for (const auto& a : body) received.insert(a["id"].get<std::string>() + a["status"].get<std::string>());
  }
  CHECK(received == written);
}

TEST_CASE("probes hidden behind percent-encoding alert in run and count in analyze, and both agree") {
  test::temp_dir dir;
  const std::string cfg = small_config(dir, "type = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n");
  // Five encoded probes and a traversal encoded deeper than the decoding
  // limit allows (what the limit leaves, `/../%2eenv`, is still traversal);
  // the signatures match none of them as logged. Plus ordinary escaped paths.
  const std::vector<std::string> paths = {"/%2e%65nv", "/%252Egit/config", "/wp-%61dmin/", "/.env%00.png",
                                          "/%2Ehtpasswd", "/%25252e%25252e/%2525252eenv", "/caf%C3%A9%20menu",
                                          "/files/100%25"};
  std::string log;
  int second = 0;
  for (const auto& p : paths) {
    const std::string ip = p.rfind("/caf", 0) == 0 || p.rfind("/files", 0) == 0 ? "10.0.0.5" : "203.0.113.66";
    log += ip + " - - [01/Jan/2024:00:00:" + (second < 10 ? "0" : "") + std::to_string(second) +
           " +0000] \"GET " + p + " HTTP/1.1\" 404 12 \"-\" \"Mozilla/5.0\"\n";
    ++second;
  }
  test::write_file(dir / "access.log", log);
  auto run = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(has_alert(jsonl(dir / "alerts.jsonl"), "scanner", "firing", "203.0.113.66"));
  CHECK_FALSE(has_alert(jsonl(dir / "alerts.jsonl"), "scanner", "firing", "10.0.0.5"));
  CHECK(run.out.find("'/.env%00.png' is nul_byte") != std::string::npos);  // the first over a limit is logged
  CHECK(run.out.find("2 requests had paths beyond the decoding limits") != std::string::npos);

  auto analyze = test::run_command(bin + " analyze '" + (dir / "access.log") + "' --json -");
  REQUIRE(analyze.exit_code == 0);
  INFO(analyze.out);
  std::map<std::string, uint64_t> hits;
  const json report = json::parse(analyze.out);
  for (const auto& f : report["security"]["findings"]) hits[f["class"].get<std::string>()] = f["hits"];
  // `/.env%00.png` is a probe and, for its NUL-byte suffix, a traversal
  // and a bad request too.
  CHECK(hits == std::map<std::string, uint64_t>{{"probe", 5}, {"traversal", 2}, {"bad_request", 1}});
}

namespace {

std::string state_config(const test::temp_dir& dir, const std::string& size = "1m") {
  const std::string cfg =
    "[node]\nname = \"t\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"\"\ncheckpoint_interval = \"50ms\"\n\n"
    "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n\n"
    "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"" + size + "\"\nallowed_lateness = \"1m\"\n\n"
    "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\nallowed_lateness = \"1m\"\n\n"
    "[[rule]]\nname = \"scanner\"\nwindow = \"ip_minute\"\nwhen = \"status_404 >= 20 || probes >= 5\"\n\n"
    "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\ninput = \"alerts\"\npath = \"" + (dir / "alerts.jsonl") + "\"\n\n"
    "[[sink]]\nname = \"minutes\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = \"" + (dir / "minute.jsonl") + "\"\n\n"
    "[[sink]]\nname = \"ips\"\ntype = \"jsonl\"\ninput = \"window:ip_minute\"\npath = \"" + (dir / "ips.jsonl") + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  return dir / "t.toml";
}

void gen_log(const std::string& path, const std::string& duration, int rate = 500) {
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate " + std::to_string(rate) + " --duration " + duration +
                            " --seed 12 --start 2024-01-01T00:00:00Z --format combined --inject scan -o '" + path +
                            "' 2>/dev/null").exit_code == 0);
}

} // namespace

TEST_CASE("a graceful stop writes a final checkpoint, and the restart resumes exactly there") {
  test::temp_dir dir;
  const std::string cfg = state_config(dir);
  gen_log(dir / "access.log", "6m");
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run1.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(pid, SIGTERM);
  REQUIRE(test::wait_process(pid) == 0);
  const std::string log1 = test::read_file(dir / "run1.log");
  INFO(log1);
  CHECK(log1.find("final checkpoint") != std::string::npos);
  // The offset of the final checkpoint is where the next run starts.
  const std::string offset = inspected(dir, "access.log  offset ");
  REQUIRE_FALSE(offset.empty());
  auto run2 = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(run2.out);
  REQUIRE(run2.exit_code == 0);
  CHECK(run2.out.find("resuming " + (dir / "access.log") + " at offset " + offset) != std::string::npos);
  CHECK(run2.out.find("cut back") == std::string::npos);  // nothing written after the final checkpoint
  auto plan_lines = test::run_command("wc -l < '" + (dir / "access.log") + "'");
  CHECK(total_requests(dir / "minute.jsonl") == std::stoull(plan_lines.out));
}

TEST_CASE("a damaged newest checkpoint falls back to the one before, and the results stay exact") {
  test::temp_dir dir, ref;
  const std::string cfg = state_config(dir), ref_cfg = state_config(ref);
  gen_log(dir / "access.log", "4m", 2000);
  test::write_file(ref / "access.log", test::read_file(dir / "access.log"));
  // Live, stopped hard once two checkpoints are written (every 50 ms; on
  // a loaded machine each can take longer), none final.
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg, "--log-level", "debug"}, dir / "run1.log");
  for (int i = 0; i < 200 && test::read_file(dir / "run1.log").find("checkpoint 2: written") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pid, SIGKILL);
  test::wait_process(pid);
  const std::string newest = inspected(dir, "newest readable checkpoint ");
  REQUIRE_FALSE(newest.empty());
  const uint64_t id = std::stoull(newest);
  REQUIRE(id >= 2);
  test::poke_state(dir / "state", "windows", test::checkpoint_key(id, "windows"), "damaged");
  auto run2 = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(run2.out);
  REQUIRE(run2.exit_code == 0);
  CHECK(run2.out.find("checkpoint " + std::to_string(id) + ", window 'windows': state value is damaged") !=
        std::string::npos);
  CHECK(run2.out.find("resuming from checkpoint " + std::to_string(id - 1)) != std::string::npos);
  REQUIRE(test::run_command(bin + " run -c '" + ref_cfg + "' --once 2>/dev/null").exit_code == 0);
  CHECK(test::read_file(dir / "minute.jsonl") == test::read_file(ref / "minute.jsonl"));
  CHECK(test::read_file(dir / "ips.jsonl") == test::read_file(ref / "ips.jsonl"));
}

TEST_CASE("a state dir made with other windows is refused with what changed and how to start fresh") {
  test::temp_dir dir;
  gen_log(dir / "access.log", "2m");
  REQUIRE(test::run_command(bin + " run -c '" + state_config(dir) + "' --once 2>/dev/null").exit_code == 0);
  auto again = test::run_command(bin + " run -c '" + state_config(dir, "5m") + "' --once 2>&1");
  CHECK(again.exit_code == 1);
  CHECK(again.out.find("was made with another config: window minute changed") != std::string::npos);
  CHECK(again.out.find("size=60000ms") != std::string::npos);
  CHECK(again.out.find("To start fresh, move the directory away") != std::string::npos);
}

TEST_CASE("four parse workers give the same window results as one: batches go back in read order") {
  test::temp_dir one, four;
  gen_log(one / "access.log", "3m", 3000);  // ~540k lines: many chunks per worker
  test::write_file(four / "access.log", test::read_file(one / "access.log"));
  // No lateness allowed: a batch taken out of order would drop lines as late.
  auto cfg = [](const test::temp_dir& dir, int workers) {
    return small_config(dir, "type = \"file\"\npath = \"" + (dir / "access.log") +
                               "\"\nformat = \"combined\"\nparse_workers = " + std::to_string(workers) + "\n");
  };
  REQUIRE(test::run_command(bin + " run -c '" + cfg(one, 1) + "' --once 2>/dev/null").exit_code == 0);
  REQUIRE(test::run_command(bin + " run -c '" + cfg(four, 4) + "' --once 2>/dev/null").exit_code == 0);
  const std::string minutes = test::read_file(one / "minute.jsonl");
  CHECK(minutes == test::read_file(four / "minute.jsonl"));
  CHECK(total_requests(one / "minute.jsonl") == std::stoull(test::run_command("wc -l < '" + (one / "access.log") + "'").out));
  CHECK(test::read_file(one / "alerts.jsonl").size() > 0);
  std::set<std::string> ids_one, ids_four;
  for (const auto& a : jsonl(one / "alerts.jsonl")) ids_one.insert(a["id"]);
  for (const auto& a : jsonl(four / "alerts.jsonl")) ids_four.insert(a["id"]);
  CHECK(ids_one == ids_four);
}

TEST_CASE("vigil run writes each attack request to an attacks sink, in read order, once across restarts") {
  test::temp_dir dir;
  auto write_log = [&](size_t from, size_t to) {
    std::string log;
    for (size_t n = from; n <= to; ++n) {
      std::string target = "/page/" + std::to_string(n), agent = "Mozilla/5.0";
      if (n % 100 == 0) target = "/search?q=%3Cscript%3Ealert(" + std::to_string(n) + ")%3C/script%3E";
      if (n % 100 == 50) agent = "Nikto/2.5.0";
      log += "10.2.0." + std::to_string(n % 100) + " - - [01/Jan/2024:00:00:" + (n % 60 < 10 ? "0" : "")
             + std::to_string(n % 60) + " +0000] \"GET " + target + " HTTP/1.1\" 200 10 \"-\" \"" + agent + "\"\n";
    }
    return log;
  };
  test::write_file(dir / "access.log", write_log(1, 1000));
  const std::string cfg =
    "[node]\nname = \"web-1\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"\"\ncheckpoint_interval = \"100ms\"\n\n"
    "[[source]]\nname = \"web\"\ntype = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n\n"
    "[[sink]]\nname = \"attacks\"\ntype = \"jsonl\"\ninput = \"attacks\"\npath = \"" + (dir / "attacks.jsonl") + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  REQUIRE(test::run_command(bin + " run --once -c '" + (dir / "t.toml") + "' 2>&1").exit_code == 0);
  auto records = [&] {
    std::vector<json> out;
    std::istringstream in(test::read_file(dir / "attacks.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  };
  auto first = records();
  REQUIRE(first.size() == 20);  // 10 XSS, 10 scanners
  CHECK(first[0]["source"] == "web");
  CHECK(first[0]["user_agent"] == "Nikto/2.5.0");
  CHECK(first[0]["attacks"]
        == json::parse(R"([{"class":"scanner","fields":["user_agent"],"signatures":["scanner-nikto"]}])"));
  CHECK(first[1]["target"] == "/search?q=%3Cscript%3Ealert(100)%3C/script%3E");
  CHECK(first[1]["client"] == "10.2.0.0");
  CHECK(first[1]["time"] == "2024-01-01T00:00:40Z");
  CHECK(first[1]["attacks"]
        == json::parse(R"([{"class":"xss","fields":["query"],"signatures":["xss-js_call","xss-script_tag"]}])"));
  // More of the log, and a second run from the checkpoint: only the new attacks are added.
  {
    std::ofstream more(dir / "access.log", std::ios::app);
    more << write_log(1001, 1500);
  }
  REQUIRE(test::run_command(bin + " run --once -c '" + (dir / "t.toml") + "' 2>&1").exit_code == 0);
  auto both = records();
  REQUIRE(both.size() == 30);
  for (size_t i = 0; i < first.size(); ++i) CHECK(both[i] == first[i]);
  CHECK(both.back()["target"] == "/search?q=%3Cscript%3Ealert(1500)%3C/script%3E");

  // Only line sinks take attack requests, and a cluster has none yet: check-config says so.
  test::write_file(dir / "bad.toml", cfg + "\n[[sink]]\nname = \"hook\"\ntype = \"webhook\"\ninput = \"attacks\"\n"
                                           "url = \"http://127.0.0.1:9/\"\n");
  auto bad = test::run_command(bin + " check-config -c '" + (dir / "bad.toml") + "' 2>&1");
  CHECK(bad.exit_code != 0);
  CHECK(test::contains(bad.out, "a jsonl, console or zmq sink writes them"));
}
