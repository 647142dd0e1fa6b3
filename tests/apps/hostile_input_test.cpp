// Hostile input to the real binary: paths that turn into directories,
// FIFOs and symlink loops in a glob, files truncated in place, 10,000
// files at once under a low descriptor limit, a 100 MB line, a gzip bomb.
// Each must be bounded, counted, said once, and leave the node running.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string bin = VIGIL_BINARY;

using test::contains;
using test::occurrences;
using test::wait_until;

/// `port` > 0: the node serves /metrics there (a test waits on what it read).
std::string config(const test::temp_dir& dir, const std::string& pattern, int port = 0) {
  const std::string http = port > 0 ? "127.0.0.1:" + std::to_string(port) : "";
  const std::string cfg =
    "[node]\nname = \"t\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"" + http
    + "\"\ncheckpoint_interval = \"100ms\"\n\n"
    "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + pattern + "\"\nformat = \"combined\"\n\n"
    "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\nallowed_lateness = \"1m\"\n\n"
    "[[sink]]\nname = \"minutes\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = \"" + (dir / "minute.jsonl") + "\"\n\n"
    "[[sink]]\nname = \"quarantine\"\ntype = \"jsonl\"\ninput = \"quarantine\"\npath = \"" + (dir / "q.jsonl") + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  return dir / "t.toml";
}

/// `n` combined lines in minute `minute` of 2024-01-01, from distinct paths.
std::string lines(int n, int minute, const std::string& tag = "p") {
  std::string out;
  char buf[256];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf,
                  "10.0.0.%d - - [01/Jan/2024:00:%02d:%02d +0000] \"GET /%s%d HTTP/1.1\" 200 10 \"-\" \"ua\"\n",
                  i % 200, minute, i % 60, tag.c_str(), i);
    out += buf;
  }
  return out;
}

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

uint64_t total_requests(const std::string& path) {
  uint64_t n = 0;
  const std::string text = test::read_file(path);
  for (size_t p = 0; p < text.size();) {
    size_t nl = text.find('\n', p);
    n += nlohmann::json::parse(text.substr(p, nl - p))["metrics"]["requests"].get<uint64_t>();
    p = nl + 1;
  }
  return n;
}

/// Stops the live node `pid` (SIGTERM: a final checkpoint), then runs the
/// config to the end with --once (every window closes): the requests the
/// two runs counted together.
uint64_t stop_then_finish(pid_t pid, const std::string& cfg, const test::temp_dir& dir) {
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
  REQUIRE(test::run_command(bin + " run -c '" + cfg + "' --once 2>/dev/null").exit_code == 0);
  return total_requests(dir / "minute.jsonl");
}

/// Events the node on `port` has parsed, from its /metrics; -1 while it does not answer.
double events_read(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  auto r = client.Get("/metrics");
  return r && r->status == 200 ? test::metric(r->body, "vigil_source_events_total{source=\"in\"}") : -1;
}

/// A live node following access.log, which holds 100 lines of minute 0,
/// once it has read them all (its /metrics says so). Its config is
/// dir/t.toml.
pid_t follow_100_lines(const test::temp_dir& dir) {
  test::write_file(dir / "access.log", lines(100, 0));
  const int port = test::free_port();
  pid_t pid = test::spawn_process({bin, "run", "-c", config(dir, dir / "access.log", port)}, dir / "run.log");
  REQUIRE(pid > 0);
  REQUIRE(wait_until([&] { return events_read(port) == 100; }));
  return pid;
}

/// The largest resident set of any child waited for so far, in MB.
long children_peak_rss_mb() {
  rusage u{};
  ::getrusage(RUSAGE_CHILDREN, &u);
  return u.ru_maxrss / 1024;
}

} // namespace

TEST_CASE("a tailed path that becomes a directory is said once, and the node goes on when a file is back") {
  test::temp_dir dir;
  const pid_t pid = follow_100_lines(dir);
  const std::string cfg = dir / "t.toml";
  std::filesystem::remove(dir / "access.log");
  std::filesystem::create_directory(dir / "access.log");
  // The deleted file is let go of after close_idle (5 s); then it is said.
  const bool said = wait_until([&] { return contains(test::read_file(dir / "run.log"), "is a directory"); });
  INFO(test::read_file(dir / "run.log"));
  REQUIRE(said);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(occurrences(test::read_file(dir / "run.log"), "is a directory") == 1);
  CHECK(::kill(pid, 0) == 0);
  std::filesystem::remove(dir / "access.log");
  test::write_file(dir / "access.log", lines(50, 5, "q"));  // closes minute 0
  REQUIRE(wait_until([&] { return total_requests(dir / "minute.jsonl") == 100; }));
  CHECK(stop_then_finish(pid, cfg, dir) == 150);
}

TEST_CASE("FIFOs and symlink loops in a glob are passed over: the regular files are read, nothing blocks") {
  test::temp_dir dir;
  test::write_file(dir / "a.log", lines(120, 0));
  REQUIRE(::mkfifo((dir / "b.log").c_str(), 0644) == 0);
  REQUIRE(::symlink((dir / "c.log").c_str(), (dir / "c.log").c_str()) == 0);  // a loop
  REQUIRE(::symlink((dir / "d.log").c_str(), (dir / "e.log").c_str()) == 0);
  REQUIRE(::symlink((dir / "e.log").c_str(), (dir / "d.log").c_str()) == 0);
  const std::string cfg = config(dir, dir / "*.log");
  auto r = test::run_command("timeout 60 " + bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(total_requests(dir / "minute.jsonl") == 120);
}

TEST_CASE("a file truncated in place (no copy) is read again from its start, nothing skipped or doubled") {
  test::temp_dir dir;
  const pid_t pid = follow_100_lines(dir);
  const std::string cfg = dir / "t.toml";
  // Truncated where it lies, then written again: shorter than before.
  REQUIRE(::truncate((dir / "access.log").c_str(), 0) == 0);
  append(dir / "access.log", lines(40, 5, "q"));  // minute 5 closes minute 0
  const bool closed = wait_until([&] { return total_requests(dir / "minute.jsonl") >= 100; });
  INFO(test::read_file(dir / "run.log"));
  REQUIRE(closed);
  CHECK(stop_then_finish(pid, cfg, dir) == 140);
}

TEST_CASE("10,000 files matching the glob under a 1,024 descriptor limit are all read, and the limit is said once") {
  test::temp_dir dir;
  std::filesystem::create_directory(dir / "logs");
  for (int i = 0; i < 10000; ++i)
    test::write_file(dir / ("logs/f" + std::to_string(i) + ".log"), lines(1, 0, "f" + std::to_string(i)));
  const std::string cfg = config(dir, dir / "logs/*.log");
  auto r = test::run_command("/usr/bin/prlimit --nofile=1024 " + bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(occurrences(r.out, "than may be open at once (256)") == 1);
  CHECK_FALSE(contains(r.out, "Too many open files"));
  CHECK(total_requests(dir / "minute.jsonl") == 10000);
}

TEST_CASE("a 100 MB line without a newline costs bounded memory, is quarantined as too long, and the lines after it count") {
  test::temp_dir dir;
  {
    std::ofstream out(dir / "access.log", std::ios::binary);
    const std::string block(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) out << block;  // 100 MB, no newline yet
  }
  const std::string cfg = config(dir, dir / "access.log");
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  REQUIRE(pid > 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  append(dir / "access.log", "\n" + lines(30, 0) + lines(1, 5));  // the line ends; then good lines
  REQUIRE(wait_until([&] { return total_requests(dir / "minute.jsonl") == 30; }));
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
  CHECK(children_peak_rss_mb() < 300);
  const std::string q = test::read_file(dir / "q.jsonl");
  CHECK(occurrences(q, "\"reason\":\"too_long\"") == 1);
  CHECK(q.size() < 200 * 1024);  // the record keeps a bounded slice of the line
}

TEST_CASE("analyze of a gzip bomb (1 GiB of zeros in 5 MB) stays bounded and counts the lines after it") {
  test::temp_dir dir;
  const std::string good = lines(5, 0);
  test::write_file(dir / "good.log", good);
  REQUIRE(test::run_command("(head -c 1G /dev/zero; echo; cat '" + (dir / "good.log") + "') | gzip -1 > '"
                            + (dir / "bomb.log.gz") + "'").exit_code == 0);
  REQUIRE(std::filesystem::file_size(dir / "bomb.log.gz") < 10u << 20);
  auto r = test::run_command(bin + " analyze '" + (dir / "bomb.log.gz") + "' --json - 2>&1");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  CHECK(j["summary"]["valid_requests"] == 5);
  CHECK(j["summary"]["failed_requests"] == 1);
  CHECK(j["data_quality"]["malformed_by_reason"]["too_long"] == 1);
  CHECK(children_peak_rss_mb() < 300);
}

TEST_CASE("a line stamped years ahead is quarantined as future_timestamp and does not make the later lines late") {
  test::temp_dir dir;
  std::string log = lines(100, 0);
  log += "10.9.9.9 - - [01/Jan/2099:00:00:00 +0000] \"GET /future HTTP/1.1\" 200 10 \"-\" \"ua\"\n";
  log += lines(100, 1, "q") + lines(100, 2, "r");
  test::write_file(dir / "access.log", log);
  const std::string cfg = config(dir, dir / "access.log");
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(total_requests(dir / "minute.jsonl") == 300);
  CHECK_FALSE(contains(test::read_file(dir / "minute.jsonl"), "2099"));
  const std::string q = test::read_file(dir / "q.jsonl");
  CHECK(occurrences(q, "\"reason\":\"future_timestamp\"") == 1);
  CHECK(contains(q, "GET /future"));
  CHECK(occurrences(r.out, "an event stamped 2099-01-01T00:00:00") == 1);
  // The watermark survives a restart too: it was never moved to 2099.
  append(dir / "access.log", lines(100, 3, "s"));
  r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  REQUIRE(r.exit_code == 0);
  CHECK(total_requests(dir / "minute.jsonl") == 400);
}

TEST_CASE("check-config takes max_future as a duration, and 0s turns the bound off") {
  test::temp_dir dir;
  test::write_file(dir / "access.log",
                   "10.9.9.9 - - [01/Jan/2099:00:00:00 +0000] \"GET /future HTTP/1.1\" 200 10 \"-\" \"ua\"\n");
  std::string cfg = test::read_file(config(dir, dir / "access.log"));
  const std::string source_line = "format = \"combined\"\n";
  test::write_file(dir / "bad.toml", std::string(cfg).insert(cfg.find(source_line) + source_line.size(), "max_future = \"soon\"\n"));
  auto bad = test::run_command(bin + " check-config -c '" + (dir / "bad.toml") + "' 2>&1");
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.out, "max_future"));
  test::write_file(dir / "off.toml", cfg.insert(cfg.find(source_line) + source_line.size(), "max_future = \"0s\"\n"));
  REQUIRE(test::run_command(bin + " run -c '" + (dir / "off.toml") + "' --once 2>/dev/null").exit_code == 0);
  CHECK(total_requests(dir / "minute.jsonl") == 1);
}

TEST_CASE("copytruncate under the shipped glob, its copy seen while empty: no line counted twice") {
  test::temp_dir dir;
  test::write_file(dir / "access.log", lines(100, 0));
  const int port = test::free_port();
  const std::string cfg = config(dir, dir / "access.log*", port);
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  REQUIRE(pid > 0);
  REQUIRE(wait_until([&] { return events_read(port) == 100; }));
  // logrotate's copytruncate: the copy exists (empty) before it is filled,
  // and the node looks at it in between.
  test::write_file(dir / "access.log.1", "");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string whole = test::read_file(dir / "access.log");
  append(dir / "access.log.1", whole.substr(0, 100));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  append(dir / "access.log.1", whole.substr(100));
  REQUIRE(::truncate((dir / "access.log").c_str(), 0) == 0);
  append(dir / "access.log", lines(40, 5, "q"));  // minute 5 closes minute 0
  REQUIRE(wait_until([&] { return events_read(port) >= 140; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(events_read(port) == 140);
  CHECK(stop_then_finish(pid, cfg, dir) == 140);
}

TEST_CASE("a flood of one-request IPv6 clients past max_groups does not hide a scanner: its probes still raise the alert") {
  test::temp_dir dir;
  std::string log;
  char buf[256];
  for (int i = 0; i < 300; ++i) {  // each its own /64, one request each
    std::snprintf(buf, sizeof buf,
                  "2001:db8:%x::1 - - [01/Jan/2024:00:00:%02d +0000] \"GET /p%d HTTP/1.1\" 200 10 \"-\" \"ua\"\n", i,
                  i % 60, i);
    log += buf;
  }
  for (int i = 0; i < 40; ++i) {
    std::snprintf(buf, sizeof buf,
                  "10.9.9.9 - - [01/Jan/2024:00:00:%02d +0000] \"GET /.env?v=%d HTTP/1.1\" 404 10 \"-\" \"ua\"\n", 30 + i % 30,
                  i);
    log += buf;
  }
  log += lines(1, 5);  // closes minute 0
  test::write_file(dir / "access.log", log);
  const std::string cfg =
    "[node]\nname = \"t\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"\"\n\n"
    "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n\n"
    "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\nmax_groups = 100\n\n"
    "[[rule]]\nname = \"scanner\"\nwindow = \"ip_minute\"\nwhen = \"probes >= 20\"\nseverity = \"warning\"\n\n"
    "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\ninput = \"alerts\"\npath = \"" + (dir / "alerts.jsonl") + "\"\n\n"
    "[[sink]]\nname = \"ips\"\ntype = \"jsonl\"\ninput = \"window:ip_minute\"\npath = \"" + (dir / "ips.jsonl") + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  auto r = test::run_command(bin + " run -c '" + (dir / "t.toml") + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "window ip_minute: more keys than max_groups or max_state_bytes allow (100)"));
  const std::string alerts = test::read_file(dir / "alerts.jsonl");
  INFO(alerts);
  CHECK(contains(alerts, "\"rule\":\"scanner\""));
  CHECK(contains(alerts, "(overflow)"));
  // Every request is in some group of minute 0.
  uint64_t requests = 0;
  const std::string ips = test::read_file(dir / "ips.jsonl");
  for (size_t p = 0; p < ips.size();) {
    const size_t nl = ips.find('\n', p);
    const auto j = nlohmann::json::parse(ips.substr(p, nl - p));
    if (j["window"]["start"] == "2024-01-01T00:00:00Z") requests += j["metrics"]["requests"].get<uint64_t>();
    p = nl + 1;
  }
  INFO(ips);
  CHECK(requests == 340);
}

TEST_CASE("analyze --quarantine keeps one limit for the run, whatever the workers: the input's first 100,000 malformed lines") {
  test::temp_dir dir;
  {
    std::ofstream out(dir / "bad.log", std::ios::binary);
    out << lines(10, 0);
    for (int i = 0; i < 250000; ++i) out << "garbage line " << i << " \x01\x02\xff not a log\n";
  }
  for (const char* workers : {"1", "4"}) {
    INFO("workers: " << workers);
    auto r = test::run_command(bin + " analyze -j " + workers + " '" + (dir / "bad.log") + "' --quarantine '" +
                               (dir / "q.jsonl") + "' --allow-empty --no-progress > /dev/null 2> '" + (dir / "err") + "'");
    CHECK(r.exit_code == 0);
    const std::string q = test::read_file(dir / "q.jsonl");
    CHECK(occurrences(q, "\n") == 100000);
    CHECK(contains(q, "\"line\":11,"));      // the first malformed line
    CHECK(contains(q, "\"line\":100010,"));  // the 100,000th
    CHECK_FALSE(contains(q, "\"line\":100011,"));
    CHECK(contains(test::read_file(dir / "err"), "150000 malformed lines were counted but not kept"));
  }
  CHECK(children_peak_rss_mb() < 600);
}

TEST_CASE("the quarantine sink stops at its max_bytes: hostile lines are counted, the disk is not filled, good lines still count") {
  test::temp_dir dir;
  std::string log = lines(50, 0);
  const std::string garbage(8000, '\x01');
  for (int i = 0; i < 2000; ++i) log += garbage + "\n";  // 16 MB of lines that do not parse
  log += lines(50, 1, "q") + lines(1, 5, "z");
  test::write_file(dir / "access.log", log);
  std::string cfg = test::read_file(config(dir, dir / "access.log"));
  cfg += "max_bytes = \"256KiB\"\n";  // the quarantine sink is the config's last table
  test::write_file(dir / "t.toml", cfg);
  auto r = test::run_command(bin + " run -c '" + (dir / "t.toml") + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::file_size(dir / "q.jsonl") <= 256 * 1024);
  CHECK(std::filesystem::file_size(dir / "q.jsonl") > 128 * 1024);
  CHECK(occurrences(r.out, "reached its max_bytes (262144 bytes)") == 1);
  CHECK(contains(r.out, "lines not written over its max_bytes"));
  CHECK(total_requests(dir / "minute.jsonl") == 101);
  // Each record keeps at most 4 KiB of its line.
  const std::string first = test::read_file(dir / "q.jsonl").substr(0, test::read_file(dir / "q.jsonl").find('\n'));
  CHECK(first.size() < 4096 * 6 + 200);
}

TEST_CASE("3,000 matching files under a 128 descriptor limit: all read, every checkpoint written, no file skipped unsaid") {
  test::temp_dir dir;
  std::filesystem::create_directory(dir / "logs");
  for (int i = 0; i < 3000; ++i)
    test::write_file(dir / ("logs/f" + std::to_string(i) + ".log"), lines(1, 0, "f" + std::to_string(i)));
  const std::string cfg = config(dir, dir / "logs/*.log");
  auto r = test::run_command("/usr/bin/prlimit --nofile=128 " + bin + " run -c '" + cfg + "' --once --log-level debug 2>&1");
  INFO(r.out.substr(0, 4000));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.out, "NOT written"));
  CHECK_FALSE(contains(r.out, "could not be written"));
  CHECK(total_requests(dir / "minute.jsonl") == 3000);
}
