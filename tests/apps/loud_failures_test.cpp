// Nothing fails quietly: each case is a mistake a new user makes (a path
// typo, an unwritable sink, a file that is not a log, a misspelt command)
// and the message vigil must give for it, through the real binary.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>

#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string bin = VIGIL_BINARY;

using test::contains;
using test::occurrences;
using test::wait_until;

/// A one-source node over `source_path` with a minute window written to
/// `minute_sink` and a per-IP window to `ip_sink`.
std::string node_config(const test::temp_dir& dir, const std::string& source_path, const std::string& minute_sink,
                        const std::string& ip_sink, const std::string& extra = "") {
  const std::string cfg =
    "[node]\nname = \"t\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"\"\ncheckpoint_interval = \"100ms\"\n\n"
    "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + source_path + "\"\nformat = \"combined\"\n" + extra + "\n"
    "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\nallowed_lateness = \"1m\"\n\n"
    "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\nallowed_lateness = \"1m\"\n\n"
    "[[sink]]\nname = \"minutes\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = \"" + minute_sink + "\"\n\n"
    "[[sink]]\nname = \"ips\"\ntype = \"jsonl\"\ninput = \"window:ip_minute\"\npath = \"" + ip_sink + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  return dir / "t.toml";
}

void gen_log(const std::string& path, const std::string& duration, int rate = 500) {
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate " + std::to_string(rate) + " --duration " + duration +
                            " --seed 7 --start 2024-01-01T00:00:00Z --format combined -o '" + path + "' 2>/dev/null")
            .exit_code == 0);
}

/// Polls `log` until it holds `text` (at most ~20 s).
bool wait_for_log(const std::string& log, const std::string& text) {
  return wait_until([&] { return contains(test::read_file(log), text); });
}

/// `dir` and `ref` get the same generated log and a node config each; the
/// reference run reads it uninterrupted. Returns dir's config.
std::string with_reference_run(const test::temp_dir& dir, const test::temp_dir& ref) {
  gen_log(dir / "access.log", "3m");
  test::write_file(ref / "access.log", test::read_file(dir / "access.log"));
  const std::string ref_cfg = node_config(ref, ref / "access.log", ref / "minute.jsonl", ref / "ips.jsonl");
  REQUIRE(test::run_command(bin + " run -c '" + ref_cfg + "' --once 2>/dev/null").exit_code == 0);
  return node_config(dir, dir / "access.log", dir / "minute.jsonl", dir / "ips.jsonl");
}

} // namespace

TEST_CASE("a sink that cannot open fails the start with exit 1, before any input is read or state made") {
  test::temp_dir dir;
  gen_log(dir / "access.log", "1m", 50);
  const std::string cfg = node_config(dir, dir / "access.log", "/proc/nope/minute.jsonl", dir / "ips.jsonl");
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "sink minutes: cannot create the directory /proc/nope for /proc/nope/minute.jsonl"));
  CHECK_FALSE(std::filesystem::exists(dir / "state"));
  CHECK_FALSE(std::filesystem::exists(dir / "ips.jsonl"));

  // A directory where the file should be.
  std::filesystem::create_directory(dir / "taken.jsonl");
  node_config(dir, dir / "access.log", dir / "taken.jsonl", dir / "ips.jsonl");
  r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "sink minutes: cannot open " + (dir / "taken.jsonl") + " for appending: Is a directory"));
}

TEST_CASE("a sink write that fails mid-run holds the pipeline, is logged, and loses nothing once it works again") {
  test::temp_dir dir, ref;
  const std::string cfg = with_reference_run(dir, ref);
  const auto full_size = std::filesystem::file_size(ref / "ips.jsonl");
  REQUIRE(full_size > 400000);

  // No file may grow past 200 KB (RLIMIT_FSIZE: a write past it fails
  // with EFBIG, as on a full disk): the per-IP results (575 KB) do, the
  // state store's files (under 100 KB) do not.
  pid_t pid = test::spawn_process({"/usr/bin/prlimit", "--fsize=200000:unlimited", bin, "run", "-c", cfg, "--once"},
                                  dir / "run.log");
  REQUIRE(pid > 0);
  const bool failed = wait_for_log(dir / "run.log", "sink ips: write to " + (dir / "ips.jsonl") + " failed: File too large");
  INFO(test::read_file(dir / "run.log"));
  REQUIRE(failed);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(::kill(pid, 0) == 0);  // still running: held, not crashed, not finished with a gap
  CHECK(std::filesystem::file_size(dir / "ips.jsonl") <= 200000);
  // Space comes back.
  REQUIRE(test::run_command("/usr/bin/prlimit --pid " + std::to_string(pid) + " --fsize=unlimited").exit_code == 0);
  CHECK(test::wait_process(pid) == 0);
  CHECK(contains(test::read_file(dir / "run.log"), "sink ips: writing to " + (dir / "ips.jsonl") + " again after"));
  CHECK(test::read_file(dir / "ips.jsonl") == test::read_file(ref / "ips.jsonl"));
  CHECK(test::read_file(dir / "minute.jsonl") == test::read_file(ref / "minute.jsonl"));
}

TEST_CASE("a source that matches nothing is an error for --once and a repeated warning live") {
  test::temp_dir dir;
  const std::string cfg = node_config(dir, dir / "acces.log*", dir / "minute.jsonl", dir / "ips.jsonl");
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "source in: no file matches " + (dir / "acces.log*") + " yet: --once has nothing to read"));

  // A directory given as the path.
  std::filesystem::create_directory(dir / "logs");
  node_config(dir, dir / "logs", dir / "minute.jsonl", dir / "ips.jsonl");
  r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, (dir / "logs") + " is a directory: a file source follows files (did you mean " + (dir / "logs")
                          + "/*.log?)"));

  // Only a FIFO matches.
  REQUIRE(::mkfifo((dir / "pipe.log").c_str(), 0644) == 0);
  node_config(dir, dir / "pipe.log*", dir / "minute.jsonl", dir / "ips.jsonl");
  r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "no regular file matches " + (dir / "pipe.log*") + " yet (" + (dir / "pipe.log") + " is a FIFO)"));

  // Live: said at start, and the node waits for the file to appear.
  node_config(dir, dir / "later.log", dir / "minute.jsonl", dir / "ips.jsonl");
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "live.log");
  REQUIRE(wait_for_log(dir / "live.log", "source in: no file matches " + (dir / "later.log") + " yet; waiting"));
  gen_log(dir / "later.log", "2m", 20);  // 2,400 lines appear
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
  INFO(test::read_file(dir / "live.log"));
  CHECK(contains(test::read_file(dir / "live.log"), "final checkpoint"));
  // The next run resumes after what the live one read, closes the windows:
  // every line that appeared was counted once.
  REQUIRE(test::run_command(bin + " run -c '" + cfg + "' --once 2>/dev/null").exit_code == 0);
  uint64_t requests = 0;
  const std::string minutes = test::read_file(dir / "minute.jsonl");
  for (size_t p = 0; p < minutes.size();) {
    size_t nl = minutes.find('\n', p);
    requests += nlohmann::json::parse(minutes.substr(p, nl - p))["metrics"]["requests"].get<uint64_t>();
    p = nl + 1;
  }
  CHECK(requests == 2400);
}

TEST_CASE("check-config refuses a zmq source without its endpoint or schema, and database sinks without what they need, with the line") {
  test::temp_dir dir;
  test::write_file(dir / "c.toml",
                   "[node]\nname = \"t\"\nstate_dir = \"s\"\nhttp = \"127.0.0.1:9464\"\n"
                   "[[source]]\nname = \"in\"\ntype = \"zmq\"\nendpoint = \"127.0.0.1:8080\"\n"
                   "[[sink]]\nname = \"db\"\ntype = \"sqlite\"\npath = \"x.db\"\ntable = \"my-orders\"\n"
                   "[[sink]]\nname = \"pg\"\ntype = \"postgres\"\ninput = \"window:minute\"\nbatch_rows = 0\n"
                   "[[sink]]\nname = \"file\"\ntype = \"jsonl\"\npath = \"x.jsonl\"\nkey = [\"id\"]\n");
  auto r = test::run_command(bin + " check-config -c '" + (dir / "c.toml") + "' 2>&1");
  CHECK(r.exit_code == 2);
  // A zmq source runs, but not this one: what is wrong with it, with the line.
  CHECK(contains(r.out, "c.toml:8:12: source[in].endpoint: expected tcp://HOST:PORT (or ipc://PATH), got \"127.0.0.1:8080\""));
  CHECK(contains(r.out, "source[in].schema: a zmq source takes JSON events: it needs a schema"));
  // Alerts (the default input) do not go to a table; a table name is an identifier.
  CHECK(contains(r.out, "sink[db].input: a database sink writes records (input = \"records\" or \"records:ROUTE\") or "
                        "window results"));
  CHECK(contains(r.out, "c.toml:13:9: sink[db].table: \"my-orders\" is not a table name"));
  CHECK(contains(r.out, "sink[pg].dsn: missing: a postgres sink needs its connection string, dsn = \"host=... dbname=...\" "
                        "(or VIGIL_SINK_PG_DSN in the environment)"));
  CHECK(contains(r.out, "sink[pg].batch_rows:"));
  CHECK(contains(r.out, "sink[file].key: only sqlite and postgres sinks take it"));
  auto run = test::run_command(bin + " run -c '" + (dir / "c.toml") + "' --once 2>&1");
  CHECK(run.exit_code == 2);
  // The connection string may come from the environment instead.
  test::write_file(dir / "pg.toml", "[node]\nname = \"t\"\nstate_dir = \"s\"\n"
                                    "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"a.log\"\n"
                                    "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n"
                                    "[[sink]]\nname = \"pg\"\ntype = \"postgres\"\ninput = \"window:minute\"\n");
  r = test::run_command("VIGIL_SINK_PG_DSN='host=127.0.0.1 dbname=x password=hunter2' " + bin + " check-config -c '" +
                        (dir / "pg.toml") + "' 2>&1");
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.out, "hunter2"));
}

TEST_CASE("misspelt commands and options get a did-you-mean, and --version names the commit") {
  auto r = test::run_command(bin + " analyse x 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.out, "vigil: unknown command 'analyse' (did you mean 'analyze'?)"));
  r = test::run_command(bin + " version 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.out, "unknown command 'version' (did you mean 'vigil --version'?)"));
  r = test::run_command(bin + " analyze --htm out.html x.log 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.out, "vigil: unknown option '--htm' for 'vigil analyze' (did you mean '--html'?)"));
  r = test::run_command(bin + " zzzz 2>&1");
  CHECK(contains(r.out, "unknown command 'zzzz' (commands: analyze check-config run gen state anomaly keygen)"));
  for (const char* flag : {"-V", "--version"}) {
    r = test::run_command(bin + " " + flag + " 2>&1");
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("vigil 0.", 0) == 0);
    CHECK(contains(r.out, "(commit "));
  }
  CHECK_FALSE(contains(test::run_command(bin + " analyze --help").out, "{false}"));
}

TEST_CASE("analyze on something that is not a log says what it read it as and why the first line failed") {
  auto r = test::run_command(bin + " analyze '" + bin + "' 2>&1 >/dev/null");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "vigil analyze: error: 0 of "));
  CHECK(contains(r.out, "read as combined (" + bin + "), sniffed from the first lines"));
  CHECK(contains(r.out, "first failing line: " + bin + ":1: not_utf8: \\x7fELF"));
  CHECK(contains(r.out, "Try --log-format"));

  r = test::run_command(bin + " analyze -f json '" + test::fixture("apache_combined_2000.log") + "' 2>&1 >/dev/null");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "0 of 2000 lines parsed; read as json (" + test::fixture("apache_combined_2000.log")
                          + "), as --log-format says"));
  CHECK(contains(r.out, "apache_combined_2000.log:1: bad_json: 83.149.9.216 - - [17/May/2015:10:05:03 +0000]"));

  test::temp_dir dir;
  test::write_file(dir / "empty.log", "");
  CHECK(test::run_command(bin + " analyze '" + (dir / "empty.log") + "' 2>/dev/null >/dev/null").exit_code == 1);
  CHECK(test::run_command(bin + " analyze --allow-empty '" + (dir / "empty.log") + "' 2>/dev/null >/dev/null").exit_code
        == 0);
  // Mostly good: a warning, exit 0.
  r = test::run_command(bin + " analyze '" + test::fixture("combined_mixed.log") + "' 2>&1 >/dev/null");
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.out, "error"));
}

TEST_CASE("analyze output errors give the path and the reason") {
  test::temp_dir dir;
  const std::string log = test::fixture("combined_mixed.log");
  auto r = test::run_command(bin + " analyze '" + log + "' --html /nonexistent-dir/r.html 2>&1 >/dev/null");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "vigil analyze: /nonexistent-dir/r.html: cannot write: No such file or directory"));
  r = test::run_command(bin + " analyze '" + log + "' --json '" + dir.path.string() + "' 2>&1 >/dev/null");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, dir.path.string() + ": cannot write: Is a directory"));
}

TEST_CASE("malformed lines and dimension loads are logged once per source and node, not once per worker") {
  test::temp_dir dir;
  std::string text = test::read_file(test::fixture("apache_combined_2000.log"));
  std::string log;
  size_t line = 0, pos = 0;
  while (pos < text.size()) {  // a garbage line every 100
    size_t nl = text.find('\n', pos);
    log += text.substr(pos, nl - pos + 1);
    if (++line % 100 == 0) log += "garbage line\n";
    pos = nl + 1;
  }
  test::write_file(dir / "access.log", log);
  test::write_file(dir / "nets.csv", "cidr,owner\n0.0.0.0/0,anyone\n");
  const std::string cfg =
    node_config(dir, dir / "access.log", dir / "minute.jsonl", dir / "ips.jsonl", "parse_workers = 4\n")
    + "";
  test::write_file(cfg, test::read_file(cfg) + "\n[[dimension]]\nname = \"nets\"\npath = \"" + (dir / "nets.csv")
                          + "\"\nfields = [\"owner\"]\n");
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(occurrences(r.out, "malformed lines, ") == 1);
  CHECK(contains(r.out, "source in: 20 malformed lines, 0 duplicate lines dropped"));
  CHECK(occurrences(r.out, "dimension nets: loaded 1 networks") == 1);
}

TEST_CASE("the demo's own traffic fires only the incidents it injects") {
  test::temp_dir dir;
  // The workload `make demo` writes, all at once.
  REQUIRE(test::run_command(bin + " gen access --rate 500 --duration 90s --inject scan,bruteforce,5xx,latency "
                                  "--format combined_rt --no-pace --seed 1 --start 2024-01-01T00:00:00Z -o '"
                            + (dir / "access.log") + "' --plan '" + (dir / "plan.json") + "' 2>/dev/null")
            .exit_code == 0);
  std::string cfg = test::read_file(std::string(VIGIL_SOURCE_DIR) + "/config/demo.toml");
  for (size_t p = cfg.find("var/demo/"); p != std::string::npos; p = cfg.find("var/demo/"))
    cfg.replace(p, 9, dir.path.string() + "/");
  // Tests run side by side: no dashboard port.
  const std::string http = "http = \"127.0.0.1:9464\"";
  cfg.replace(cfg.find(http), http.size(), "http = \"\"");
  const std::string table = "config/networks.csv";
  cfg.replace(cfg.find(table), table.size(), std::string(VIGIL_SOURCE_DIR) + "/" + table);
  test::write_file(dir / "demo.toml", cfg);
  REQUIRE(test::run_command(bin + " run -c '" + (dir / "demo.toml") + "' --once 2>/dev/null >/dev/null").exit_code == 0);
  std::set<std::string> injected;
  for (const auto& i : nlohmann::json::parse(test::read_file(dir / "plan.json")))
    if (!i["client"].get<std::string>().empty()) injected.insert(i["client"].get<std::string>());
  REQUIRE(injected.size() == 2);
  std::string alerts = test::read_file(dir / "alerts.jsonl");
  size_t keyed = 0;
  for (size_t p = 0; p < alerts.size();) {
    size_t nl = alerts.find('\n', p);
    auto a = nlohmann::json::parse(alerts.substr(p, nl - p));
    p = nl + 1;
    if (!a["key"].contains("ip")) continue;
    ++keyed;
    INFO(a.dump());
    CHECK(injected.count(a["key"]["ip"].get<std::string>()) == 1);
  }
  CHECK(keyed > 0);
  CHECK_FALSE(contains(alerts, "request_flood"));
}

TEST_CASE("a full state dir pauses the intake (readyz 503) until space is back, a failed final checkpoint exits 1, and the results stay exact") {
  test::temp_dir dir, ref;
  std::filesystem::create_directory(dir / "mnt");
  // A small file system of its own for the state dir (root only; CI runs
  // as root): filled up while the node runs. ext4 on a loop device where
  // there is one (RocksDB once aborted there on a full disk), else tmpfs.
  const std::string img = dir / "state.img";
  const bool ext4 = test::run_command("dd if=/dev/zero of='" + img + "' bs=1M count=96 2>/dev/null && mkfs.ext4 -q -F '" + img +
                                      "' >/dev/null 2>&1 && mount -o loop '" + img + "' '" + (dir / "mnt") + "' 2>&1")
                      .exit_code == 0;
  if (!ext4 && test::run_command("mount -t tmpfs -o size=64m tmpfs '" + (dir / "mnt") + "' 2>&1").exit_code != 0) {
    WARN("skipped: cannot mount a file system here (needs root)");
    return;
  }
  INFO("state dir on " << (ext4 ? "ext4" : "tmpfs"));
  struct unmount {
    std::string path;
    ~unmount() { test::run_command("umount '" + path + "' 2>/dev/null"); }
  } unmount_at_end{dir / "mnt"};
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 1000 --duration 3m --clients 20000 --seed 3 "
                                  "--start 2024-01-01T00:00:00Z --format combined -o '" + (dir / "access.log")
                            + "' 2>/dev/null").exit_code == 0);
  test::write_file(ref / "access.log", test::read_file(dir / "access.log"));
  const std::string all_lines = test::read_file(dir / "access.log");
  // The node starts on the first half; the rest is appended while it runs.
  test::write_file(dir / "access.log", all_lines.substr(0, all_lines.find('\n', all_lines.size() / 2) + 1));
  std::string cfg = node_config(dir, dir / "access.log", dir / "minute.jsonl", dir / "ips.jsonl");
  std::string text = test::read_file(cfg);
  text.replace(text.find(dir / "state"), (dir / "state").size(), dir / "mnt/state");
  const int port = test::free_port();
  text.replace(text.find("http = \"\""), 9, "http = \"127.0.0.1:" + std::to_string(port) + "\"");
  test::write_file(cfg, text);
  const std::string ref_cfg = node_config(ref, ref / "access.log", ref / "minute.jsonl", ref / "ips.jsonl");
  REQUIRE(test::run_command(bin + " run -c '" + ref_cfg + "' --once 2>/dev/null").exit_code == 0);
  auto readyz = [&] {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1);
    auto r = client.Get("/readyz");
    return r ? r->status : -1;
  };

  pid_t pid = test::spawn_process({bin, "run", "-c", cfg, "--log-level", "debug"}, dir / "run.log");
  REQUIRE(wait_for_log(dir / "run.log", "checkpoint 3: written"));
  // The disk fills up: the node waits, it does not stop.
  test::run_command("dd if=/dev/zero of='" + (dir / "mnt/filler") + "' bs=1M 2>/dev/null");
  REQUIRE(wait_for_log(dir / "run.log", "full: the sources read nothing more until a checkpoint can be written"));
  std::ofstream(dir / "access.log", std::ios::app) << all_lines.substr(test::read_file(dir / "access.log").size());
  CHECK(wait_until([&] { return readyz() == 503; }));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(::kill(pid, 0) == 0);
  // Space comes back: a checkpoint is written and the sources read on.
  std::filesystem::remove(dir / "mnt/filler");
  REQUIRE(wait_for_log(dir / "run.log", "the sources read on"));
  CHECK(wait_until([&] { return readyz() == 200; }));
  // Full again, and a stop: its final checkpoint cannot be written, so it
  // is no clean stop, and says so.
  test::run_command("dd if=/dev/zero of='" + (dir / "mnt/filler") + "' bs=1M 2>/dev/null");
  REQUIRE(wait_until([&] { return readyz() == 503; }));
  ::kill(pid, SIGTERM);
  const int rc = test::wait_process(pid);
  const std::string log = test::read_file(dir / "run.log");
  INFO(log);
  CHECK(rc == 1);
  CHECK(contains(log, "No space left on device"));
  CHECK(contains(log, "could not be written"));
  // On the full disk, inspect reads the store.
  auto inspect = test::run_command(bin + " state inspect --state-dir '" + (dir / "mnt/state") + "' 2>&1");
  CHECK(inspect.exit_code == 0);
  CHECK(contains(inspect.out, "newest readable checkpoint"));
  // A start on the full disk runs; it may finish what is left before it
  // needs a checkpoint, or wait (to open the store, or for a checkpoint)
  // until there is room again: either way it ends with the exact results.
  pid_t again = test::spawn_process({bin, "run", "-c", cfg, "--once"}, dir / "again.log");
  int status = 0;
  bool ended = false;
  CHECK(wait_until([&] {
    ended = ::waitpid(again, &status, WNOHANG) == again;
    const std::string log = test::read_file(dir / "again.log");
    if (!ended && (contains(log, "is full: waiting for room to open it") || contains(log, "full: the sources read nothing more")))
      std::filesystem::remove(dir / "mnt/filler");
    return ended;
  }));
  INFO(test::read_file(dir / "again.log"));
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  std::filesystem::remove(dir / "mnt/filler");
  CHECK(contains(test::read_file(dir / "again.log"), "resuming from checkpoint"));
  CHECK(test::read_file(dir / "minute.jsonl") == test::read_file(ref / "minute.jsonl"));
  CHECK(test::read_file(dir / "ips.jsonl") == test::read_file(ref / "ips.jsonl"));
}

TEST_CASE("a second node on a state dir in use refuses at once, naming the holder, even with RocksDB's LOCK deleted") {
  test::temp_dir dir;
  gen_log(dir / "access.log", "1m", 50);
  const std::string cfg = node_config(dir, dir / "access.log", dir / "minute.jsonl", dir / "ips.jsonl");
  pid_t first = test::spawn_process({bin, "run", "-c", cfg}, dir / "first.log");
  REQUIRE(first > 0);
  REQUIRE(wait_until([&] { return std::filesystem::exists(dir / "state/HOLDER"); }));
  // RocksDB's lock is a file: without it RocksDB alone would let a second
  // process open the same database; the node's flock of the dir does not.
  for (const bool lock_deleted : {false, true}) {
    INFO("LOCK deleted: " << lock_deleted);
    if (lock_deleted) REQUIRE(std::filesystem::remove(dir / "state/LOCK"));
    auto second = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
    CHECK(second.exit_code == 1);
    CHECK(contains(second.out, "state dir " + (dir / "state") + " is in use by another process (pid "
                                 + std::to_string(first) + " on host "));
    CHECK(contains(second.out, "two nodes cannot share a state_dir"));
    auto inspect = test::run_command(bin + " state inspect --state-dir '" + (dir / "state") + "' 2>&1");
    CHECK(inspect.exit_code == 1);
    CHECK(contains(inspect.out, "is in use by another process (pid " + std::to_string(first)));
  }
  ::kill(first, SIGTERM);
  CHECK(test::wait_process(first) == 0);
  // Once the first has stopped the directory is free again.
  CHECK(test::run_command(bin + " state inspect --state-dir '" + (dir / "state") + "' >/dev/null 2>&1").exit_code == 0);
}

namespace {

/// The table files of the state dir, oldest first (RocksDB numbers them in order).
std::vector<std::string> table_files(const std::string& state) {
  std::vector<std::pair<long, std::string>> files;
  for (const auto& e : std::filesystem::directory_iterator(state))
    if (e.path().extension() == ".sst") files.emplace_back(std::stol(e.path().stem().string()), e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) out.push_back(f.second);
  return out;
}

/// Damage of one kind to a table file.
void damage(const std::string& path, const std::string& kind) {
  if (kind == "deleted") {
    std::filesystem::remove(path);
    return;
  }
  std::string bytes = test::read_file(path);
  if (kind == "garbage in a data block") {
    for (size_t i = 0; i < 64 && bytes.size() > 2048; ++i) bytes[bytes.size() / 3 + i] ^= static_cast<char>(0xa5);
  } else if (kind == "cut in half") {
    bytes.resize(bytes.size() / 2);
  } else if (kind == "footer zeroed") {
    std::fill(bytes.end() - 20, bytes.end(), '\0');
  } else if (kind == "index and properties flipped") {
    for (size_t i = 0; i < 64; ++i) bytes[bytes.size() - 200 + i] ^= static_cast<char>(0x5a);
  } else if (kind == "emptied") {
    bytes.clear();
  }
  test::write_file(path, bytes);
}

/// Runs the node of `cfg` until it has written 4 checkpoints, then SIGKILLs it.
void killed_after_checkpoints(const test::temp_dir& dir, const std::string& cfg) {
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg, "--log-level", "debug"}, dir / "run.log");
  REQUIRE(wait_for_log(dir / "run.log", "checkpoint 4: written"));
  ::kill(pid, SIGKILL);
  test::wait_process(pid);
}

} // namespace

TEST_CASE("a damaged newest checkpoint, whatever the damage, falls back to the one before and gives the same results") {
  for (const std::string kind : {"garbage in a data block", "cut in half", "deleted", "footer zeroed",
                                 "index and properties flipped", "emptied"}) {
    INFO("damage: " << kind);
    test::temp_dir dir, ref;
    const std::string cfg = with_reference_run(dir, ref);
    killed_after_checkpoints(dir, cfg);
    // Each checkpoint's parts are table files of their own, written
    // together: the newest files are the newest checkpoint's (checkpoints
    // are 100 ms apart; damage to any one of its files must be enough).
    const auto files = table_files(dir / "state");
    auto mtime = [](const std::string& f) { return std::filesystem::last_write_time(f); };
    auto newest = mtime(files.back());
    for (const auto& f : files) newest = std::max(newest, mtime(f));
    std::vector<std::string> last;
    for (const auto& f : files)
      if (newest - mtime(f) < std::chrono::milliseconds(40)) last.push_back(f);
    REQUIRE(!last.empty());
    REQUIRE(last.size() < files.size() / 2);
    for (const auto& f : last) damage(f, kind);
    auto again = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
    INFO(again.out);
    REQUIRE(again.exit_code == 0);
    // A deleted record file leaves no trace of the checkpoint: nothing to fall back from.
    if (kind != "deleted")
      CHECK((contains(again.out, "falling back to the checkpoint before it") || contains(again.out, "cannot be read")));
    CHECK(test::read_file(dir / "minute.jsonl") == test::read_file(ref / "minute.jsonl"));
    CHECK(test::read_file(dir / "ips.jsonl") == test::read_file(ref / "ips.jsonl"));
  }
}

TEST_CASE("every checkpoint damaged, or the manifest: the restart refuses with what is wrong, never gives wrong results") {
  for (const bool manifest : {false, true}) {
    test::temp_dir dir, ref;
    const std::string cfg = with_reference_run(dir, ref);
    killed_after_checkpoints(dir, cfg);
    if (manifest) {
      for (const auto& e : std::filesystem::directory_iterator(dir / "state"))
        if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) {
          std::string bytes = test::read_file(e.path());
          bytes[bytes.size() / 2] ^= static_cast<char>(0xff);
          test::write_file(e.path(), bytes);
        }
    } else {
      for (const auto& f : table_files(dir / "state")) damage(f, "garbage in a data block");
    }
    auto again = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
    INFO(again.out);
    CHECK(again.exit_code == 1);
    CHECK(contains(again.out, manifest ? "is damaged on disk" : "no checkpoint in it can be read"));
    CHECK(contains(again.out, (dir / "state")));
    CHECK(contains(again.out, manifest ? "move it away" : "move the directory away"));
  }
}

namespace {

/// The peak virtual size in bytes of process `pid` (VmPeak), 0 if unknown.
uint64_t vm_peak_bytes(pid_t pid) {
  const std::string status = test::read_file("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("VmPeak:");
  return at == std::string::npos ? 0 : std::stoull(status.substr(at + 7)) * 1024;
}

} // namespace

TEST_CASE("a node that runs out of memory says so and exits 1, instead of an actor dying while the rest wait") {
  test::temp_dir dir;
  // 4,000,000 lines of two million clients in one hour-long per-IP window:
  // about 1,600,000 groups, over 600 MB even as they close in slices.
  REQUIRE(test::run_command(bin + " gen access --no-pace --rate 50000 --duration 80s --clients 2000000 --seed 3"
                            " --start 2024-01-01T00:00:00Z --format combined -o '" + (dir / "access.log") + "' 2>/dev/null")
            .exit_code == 0);
  test::write_file(dir / "small.log", "");
  auto cfg_for = [&](const std::string& log, const std::string& name) {
    test::write_file(dir / name,
                     "[node]\nname = \"t\"\nstate_dir = \"" + (dir / (name + ".state")) + "\"\nhttp = \"\"\n\n"
                     "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + log + "\"\nformat = \"combined\"\n\n"
                     "[[window]]\nname = \"ip\"\ntype = \"tumbling\"\nsize = \"1h\"\ngroup_by = [\"ip\"]\nmax_groups = 5000000\nmax_state_bytes = \"16GiB\"\n\n"
                     "[[sink]]\nname = \"ips\"\ntype = \"jsonl\"\ninput = \"window:ip\"\npath = \"" + (dir / (name + ".jsonl")) + "\"\n");
    return dir / name;
  };
  // The address space of an idle node on this machine (its threads'
  // stacks depend on the cores), plus 250 MB: room to start, not for the
  // groups.
  const pid_t idle = test::spawn_process({bin, "run", "-c", cfg_for(dir / "small.log", "idle.toml")}, dir / "idle.log");
  REQUIRE(wait_for_log(dir / "idle.log", "sinks"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const uint64_t idle_bytes = vm_peak_bytes(idle);
  ::kill(idle, SIGTERM);
  test::wait_process(idle);
  REQUIRE(idle_bytes > 0);
  const std::string limit = std::to_string(idle_bytes + (250u << 20));
  auto r = test::run_command("timeout 120 /usr/bin/prlimit --as=" + limit + " " + bin + " run -c '"
                             + cfg_for(dir / "access.log", "big.toml") + "' --once 2>&1");
  INFO(r.out);
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != 124);  // no hang
  // Most often an allocation fails; a library may also throw it past the
  // handler (an actor then stops, and the watchdog ends the node), or on a
  // loaded machine a thread cannot be started: each is said.
  if (r.exit_code == 1)
    CHECK((contains(r.out, "vigil: out of memory (an allocation failed): stopping with exit 1")
           || contains(r.out, "a pipeline actor stopped")));
  else
    CHECK(contains(r.out, "vigil: fatal: "));
}
