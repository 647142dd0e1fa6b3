// Crash torture: `vigil run` tails a log that grows and rotates while this
// driver kills it with SIGKILL at random instants and restarts it; a last
// run with --once finishes the input. Its window results must be
// byte-identical to those of one uninterrupted run over the same lines, and
// its alert ids the same set, and its quarantine the same records.
//
//   crash_torture --vigil build/vigil [--job web|orders|ysb] [--kills N] [--seed S] [--lines N] [--keep]
//
// --job orders runs the ETL job (schema, dedup, transforms, a lookup,
// declared metrics) over generated orders with bad, duplicate and drifting
// events: its records (JSONL and CSV) must be byte-identical too. --job ysb
// runs config/ysb.toml's job; its results must also pass the YSB check.
//
// Kills land at random instants, right as the file rotates, and (every
// third) right after a checkpoint's write starts, found in the debug log.
//
// --clients N (web) draws the clients from N addresses and --rate R puts R
// lines in a second of log time: with many of both, the per-IP minute window
// holds a hundred thousand groups and more, which close in slices: every
// sixth kill (the third, the ninth, ...) lands in the middle of such a
// close, after a checkpoint taken while it was closing, and the kills after
// those (the sixth, the twelfth, ...) right after one has closed: its
// results handed to the sinks, the checkpoint after the close not yet taken.
//
// Prints the seed first: `--seed S` replays a failure's schedule (the kill
// instants are drawn from it; the machine's timing still varies).

#include <algorithm>
#include <atomic>
#include <memory>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using vigil::test::spawn_process;
using vigil::test::wait_process;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void append(const fs::path& p, std::string_view bytes) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + p.string());
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) throw std::runtime_error("cannot write " + p.string());
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string config(const fs::path& dir, const std::string& source_glob) {
  auto q = [](const fs::path& p) { return "\"" + p.string() + "\""; };
  return "[node]\nname = \"torture\"\nstate_dir = " + q(dir / "state") + "\nhttp = \"\"\n"
         "checkpoint_interval = \"100ms\"\n\n"
         "[[source]]\nname = \"access\"\ntype = \"file\"\npath = " + q(source_glob) + "\nformat = \"combined\"\n\n"
         "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\nallowed_lateness = \"2m\"\n\n"
         "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\n"
         "allowed_lateness = \"2m\"\nmax_groups = 1000000\n\n"
         "[[window]]\nname = \"status_10s\"\ntype = \"sliding\"\nsize = \"30s\"\nslide = \"10s\"\n"
         "group_by = [\"status\"]\nallowed_lateness = \"2m\"\n\n"
         // Monotonic rules: whether they fire cannot depend on where batches end.
         "[[rule]]\nname = \"scanner\"\nwindow = \"ip_minute\"\nwhen = \"status_404 >= 20 || probes >= 5\"\n\n"
         "[[rule]]\nname = \"brute_force\"\nwindow = \"ip_minute\"\nwhen = \"auth_failures >= 10\"\n\n"
         // Learned baselines, per status and of login failures a second:
         // their state is restored at every kill, and their scores are in
         // the window results, compared byte for byte.
         "[[window]]\nname = \"second\"\ntype = \"tumbling\"\nsize = \"1s\"\nallowed_lateness = \"2m\"\n\n"
         "[[detector]]\nname = \"status_traffic\"\nwindow = \"status_10s\"\nmetric = \"requests\"\nlearn = 5\n"
         "threshold = 0.3\nsuppress = \"1m\"\n\n"
         "[[detector]]\nname = \"login_failures\"\nwindow = \"second\"\nmetric = \"status_401\"\nlearn = 20\n"
         "suppress = \"20s\"\n\n"
         "[[sink]]\nname = \"second\"\ntype = \"jsonl\"\ninput = \"window:second\"\npath = " + q(dir / "second.jsonl") + "\n\n"
         "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\ninput = \"alerts\"\npath = " + q(dir / "alerts.jsonl") + "\n\n"
         "[[sink]]\nname = \"minute\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = " + q(dir / "minute.jsonl") + "\n\n"
         "[[sink]]\nname = \"ip_minute\"\ntype = \"jsonl\"\ninput = \"window:ip_minute\"\npath = " + q(dir / "ip_minute.jsonl") + "\n\n"
         "[[sink]]\nname = \"status\"\ntype = \"jsonl\"\ninput = \"window:status_10s\"\npath = " + q(dir / "status.jsonl") + "\n\n"
         "[[sink]]\nname = \"bad\"\ntype = \"jsonl\"\ninput = \"quarantine\"\npath = " + q(dir / "quarantine.jsonl") + "\n";
}

std::string orders_config(const fs::path& dir, const std::string& source_glob, const fs::path& products,
                          const std::string& database_sinks) {
  auto q = [](const fs::path& p) { return "\"" + p.string() + "\""; };
  return "[node]\nname = \"torture\"\nstate_dir = " + q(dir / "state") + "\nhttp = \"\"\n"
         "checkpoint_interval = \"100ms\"\n\n"
         "[[source]]\nname = \"orders\"\ntype = \"file\"\npath = " + q(source_glob) + "\nschema = \"order\"\n\n"
         "[[schema]]\nname = \"order\"\ntime_field = \"ts\"\ndedup_key = \"order_id\"\ndedup_horizon = \"10m\"\n"
         "[[schema.field]]\nname = \"order_id\"\ntype = \"string\"\nrequired = true\n"
         "[[schema.field]]\nname = \"user_id\"\ntype = \"string\"\n"
         "[[schema.field]]\nname = \"event_type\"\ntype = \"enum\"\nvalues = [\"view\", \"cart\", \"purchase\"]\nrequired = true\n"
         "[[schema.field]]\nname = \"product_id\"\ntype = \"string\"\n"
         "[[schema.field]]\nname = \"quantity\"\ntype = \"int\"\nmin = 1\ncoerce = true\n"
         "[[schema.field]]\nname = \"price\"\ntype = \"float\"\nmin = 0\n"
         "[[schema.field]]\nname = \"payment_status\"\ntype = \"string\"\n"
         "[[schema.field]]\nname = \"ts\"\ntype = \"timestamp\"\nrequired = true\n\n"
         "[[transform]]\nname = \"total\"\nexpr = \"price * quantity\"\n\n"
         "[[lookup]]\nname = \"products\"\npath = " + q(products) + "\nkey = [\"product_id\"]\nfields = [\"category\"]\n\n"
         "[[window]]\nname = \"category_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"category\"]\n"
         "allowed_lateness = \"10m\"\nmetrics = { orders = \"count(event_type == \\\"purchase\\\")\", revenue = \"sum(total)\", "
         "users = \"distinct(user_id)\", failed = \"count(payment_status == \\\"failed\\\")\" }\n\n"
         "[[rule]]\nname = \"payment_failures\"\nwindow = \"category_minute\"\nwhen = \"failed >= 3\"\n\n"
         "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\ninput = \"alerts\"\npath = " + q(dir / "alerts.jsonl") + "\n\n"
         "[[sink]]\nname = \"records\"\ntype = \"jsonl\"\ninput = \"records\"\npath = " + q(dir / "records.jsonl") + "\n\n"
         "[[sink]]\nname = \"rotated\"\ntype = \"jsonl\"\ninput = \"records\"\npath = " + q(dir / "rotated" / "records.jsonl")
         + "\nrotate = \"256KiB\"\n\n"
         "[[sink]]\nname = \"csv\"\ntype = \"csv\"\ninput = \"records\"\npath = " + q(dir / "records.csv") + "\n"
         "columns = [\"order_id\", \"event_type\", \"total\", \"category\", \"ts\"]\n\n"
         "[[sink]]\nname = \"minute\"\ntype = \"jsonl\"\ninput = \"window:category_minute\"\npath = " + q(dir / "minute.jsonl") + "\n\n"
         "[[sink]]\nname = \"bad\"\ntype = \"jsonl\"\ninput = \"quarantine\"\npath = " + q(dir / "quarantine.jsonl") + "\n"
         + database_sinks;
}

/// --database: the records and the window results into tables too, in
/// small batches, so that kills land between commits and checkpoints.
/// `where` is a sqlite path or a postgres connection string.
std::string database_sinks(const std::string& kind, const std::string& where, const std::string& job) {
  if (kind == "none") return "";
  const std::string at = kind == "sqlite" ? "path = \"" + where + "\"\n" : "dsn = \"" + where + "\"\n";
  if (job == "ysb")
    return "\n[[sink]]\nname = \"db\"\ntype = \"" + kind + "\"\ninput = \"window:campaign_10s\"\n" + at +
           "table = \"campaign_10s\"\n";
  return "\n[[sink]]\nname = \"db\"\ntype = \"" + kind + "\"\ninput = \"records\"\n" + at +
         "table = \"records\"\nbatch_rows = 500\n\n"
         "[[sink]]\nname = \"db_minute\"\ntype = \"" + kind + "\"\ninput = \"window:category_minute\"\n" + at +
         "table = \"minute\"\n";
}

/// A table's rows as text, in a fixed order: SQLite's in insertion order
/// (rowid), PostgreSQL's sorted.
std::string dump_table(const std::string& kind, const std::string& where, const std::string& table,
                       const vigil::test::postgres_server* pg) {
  const std::string order = table == "records"        ? (kind == "sqlite" ? "rowid" : "order_id")
                            : table == "campaign_10s" ? "window_start, campaign_id"
                                                      : "window_start, category";
  const std::string sql = "SELECT * FROM " + table + " ORDER BY " + order;
  if (kind == "postgres") return pg->query(sql, where);
  std::string out;
  if (FILE* p = ::popen(("sqlite3 -separator '|' '" + where + "' '" + sql + "' 2>&1").c_str(), "r")) {
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// config/ysb.toml with its paths moved into `dir`.
std::string ysb_config(const fs::path& source_dir, const fs::path& dir, const std::string& source_glob, const fs::path& campaigns) {
  std::ifstream in(source_dir / "config" / "ysb.toml");
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace("\"var/ysb/ad_events.jsonl*\"", "\"" + source_glob + "\"");
  replace("\"var/ysb/campaigns.csv\"", "\"" + campaigns.string() + "\"");
  replace("\"var/ysb/", "\"" + dir.string() + "/");
  replace("checkpoint_interval = \"1s\"", "checkpoint_interval = \"100ms\"");
  return text;
}

// The quarantine records as (reason, text), in file order. The file and
// offset in them differ between the runs: the crashed one reads rotated
// files.
std::vector<std::string> quarantined(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(read_file(p));
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("\"reason\":");
    out.push_back(at == std::string::npos ? line : line.substr(at));
  }
  return out;
}

// Polls what the log gets from now on (read as it grows, not again from
// its start) until `found` makes something of it, or `patience` runs out
// (""): `found` returns "" while what it waits for is not there yet.
std::string await_in_log(const fs::path& log, std::chrono::milliseconds patience,
                         const std::function<std::string(const std::string&)>& found) {
  std::ifstream in(log, std::ios::binary);
  in.seekg(0, std::ios::end);
  std::string text;
  const auto until = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < until) {
    in.clear();
    const std::string more{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!more.empty()) {
      text += more;
      if (std::string what = found(text); !what.empty()) return what;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return "";
}

// Waits until the log tells that a new checkpoint's parts are all in
// (the coordinator is writing it); returns "checkpoint N", or "" when none
// came in time.
std::string await_checkpoint_write(const fs::path& log, std::chrono::milliseconds patience) {
  return await_in_log(log, patience, [](const std::string& text) -> std::string {
    const size_t at = text.find(" parts, ");
    if (at == std::string::npos || text.find("all in after", at) == std::string::npos) return "";
    const size_t start = text.rfind("checkpoint ", at);
    return start == std::string::npos ? "" : text.substr(start, text.find(':', start) - start);
  });
}

// Waits until the log tells that a checkpoint was written (complete).
bool await_checkpoint_written(const fs::path& log, std::chrono::milliseconds patience) {
  return !await_in_log(log, patience, [](const std::string& text) -> std::string {
            return text.find(": written ") != std::string::npos ? "yes" : "";
          }).empty();
}

// Waits until the log tells that window `window` closed (or, with `what`
// "closing", began to close) at least `min_groups` groups; whether it did
// in time.
bool await_big_close(const fs::path& log, const std::string& window, const std::string& what, uint64_t min_groups,
                     std::chrono::milliseconds patience) {
  const std::string needle = "window " + window + " " + what + " ";
  return !await_in_log(log, patience, [&](const std::string& text) -> std::string {
            for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
              if (std::strtoull(text.c_str() + at + needle.size(), nullptr, 10) >= min_groups) return "yes";
            return "";
          }).empty();
}

// How many closes of `window` the log shows resumed in their middle: a
// "closing N groups" with fewer groups than the one before it, in a log
// where a restart came between them.
int resumed_closes(const std::string& log, const std::string& window) {
  const std::string needle = "window " + window + " closing ";
  int resumed = 0;
  uint64_t before = 0;
  bool restarted = false;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find("resuming from checkpoint") != std::string::npos) restarted = true;
    const size_t at = line.find(needle);
    if (at == std::string::npos) continue;
    const uint64_t n = std::strtoull(line.c_str() + at + needle.size(), nullptr, 10);
    if (restarted && before != 0 && n < before) ++resumed;
    before = n;
    restarted = false;
  }
  return resumed;
}

// Whether the log's last close of `window` began and has not ended.
bool still_closing(const std::string& log, const std::string& window) {
  const size_t began = log.rfind("window " + window + " closing ");
  const size_t ended = log.rfind("window " + window + " closed ");
  return began != std::string::npos && (ended == std::string::npos || ended < began);
}

std::set<std::string> alert_ids(const fs::path& p) {
  std::set<std::string> ids;
  std::istringstream in(read_file(p));
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("\"id\":\"");
    if (at != std::string::npos) ids.insert(line.substr(at + 6, line.find('"', at + 6) - at - 6));
  }
  return ids;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kill vigil run at random instants while it tails a rotating log; compare with an uninterrupted run."};
  std::string vigil;
  int kills = 8;
  uint64_t seed = std::random_device{}();
  uint64_t lines = 300000;
  bool keep = false;
  std::string job = "web";
  std::string source_dir = VIGIL_SOURCE_DIR;
  app.add_option("--vigil", vigil, "the vigil binary")->required();
  app.add_option("--job", job, "web (access log), orders (the ETL job) or ysb (config/ysb.toml)")->capture_default_str()
    ->check(CLI::IsMember({"web", "orders", "ysb"}));
  app.add_option("--source-dir", source_dir, "the repository (for config/ysb.toml)")->capture_default_str();
  app.add_option("--kills", kills, "SIGKILLs to send (5 to 30 is the spirit)")->capture_default_str();
  app.add_option("--seed", seed, "schedule seed (default: random, printed)");
  app.add_option("--lines", lines, "log lines to write")->capture_default_str();
  app.add_flag("--keep", keep, "keep the work directory");
  uint64_t clients = 0, rate = 1000;
  app.add_option("--clients", clients, "web: client addresses to draw from (default: the generator's)");
  app.add_option("--rate", rate, "log lines per second of log time")->capture_default_str();
  std::string database = "none";
  app.add_option("--database", database,
                 "orders, ysb: also write the records and window results to sqlite, or to postgres (a server "
                 "started here), compare the tables (ysb: and check them), and kill some runs right after a "
                 "database commit")
    ->capture_default_str()->check(CLI::IsMember({"none", "sqlite", "postgres"}));
  CLI11_PARSE(app, argc, argv);
  std::cout << "crash_torture: job " << job << ", seed " << seed << ", " << kills << " kills, " << lines << " lines"
            << std::endl;

  std::string tmpl = (fs::temp_directory_path() / "vigil-torture-XXXXXX").string();
  const fs::path work = ::mkdtemp(tmpl.data());
  const fs::path crash = work / "crash", ref = work / "ref", live = crash / "live";
  fs::create_directories(live);
  fs::create_directories(ref);
  std::mt19937_64 rng(seed);

  // The input: a deterministic log with scans and brute force in it, or
  // an event stream with incidents.
  const fs::path generated = work / "gen";
  std::string gen = vigil + " gen access --no-pace --rate " + std::to_string(rate) + " --duration " +
                    std::to_string(lines / rate) + "s --seed " + std::to_string(seed % 1000) +
                    (clients ? " --clients " + std::to_string(clients) : std::string()) +
                    " --start 2024-01-01T00:00:00Z --format combined --inject scan,bruteforce -o '" +
                    (work / "full.log").string() + "' 2>/dev/null";
  if (job != "web")
    gen = vigil + " gen events --kind " + (job == "ysb" ? "ysb" : "orders") + " --no-pace --rate " + std::to_string(rate)
          + " --count " + std::to_string(lines) + " --seed " + std::to_string(seed % 1000)
          + " --start 2024-01-01T00:00:00Z --out-dir '" + generated.string() + "' -o '" + (work / "full.log").string() + "'"
          + (job == "orders" ? " --inject bad,duplicates,schema_drift,payment_failures --bad-rate 0.02" : "") + " 2>/dev/null";
  if (std::system(gen.c_str()) != 0) {
    std::cerr << "crash_torture: vigil gen failed: " << gen << "\n";
    return 2;
  }
  // With many clients, the crashed runs close in slices of 50 groups: a
  // close of 100,000 takes seconds, and checkpoints are taken in it. The
  // reference closes in the default slices: results do not depend on them.
  if (clients) ::setenv("VIGIL_CLOSE_SLICE_GROUPS", "50", 1);
  // Malformed lines among them: every 997th line is followed by one.
  std::string text;
  {
    std::istringstream in(read_file(work / "full.log"));
    size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      text += line + "\n";
      if (++n % 997 == 0) text += "not a log line " + std::to_string(n) + "\n";
    }
  }
  std::unique_ptr<vigil::test::postgres_server> pg;
  if (database == "postgres") {
    pg = std::make_unique<vigil::test::postgres_server>(free_port());
    if (!pg->ok()) {
      std::cerr << "crash_torture: " << pg->error() << "\n";
      return 2;
    }
    pg->query("CREATE DATABASE crash");
    pg->query("CREATE DATABASE ref");
  }
  // Where each run's tables are: a file of its own, or a database of its own.
  auto database_of = [&](const fs::path& dir) {
    if (database == "postgres") return pg->dsn(dir == crash ? "crash" : "ref");
    return (dir / "records.db").string();
  };
  auto config_of = [&](const fs::path& dir, const std::string& glob) {
    if (job == "orders")
      return orders_config(dir, glob, generated / "products.csv", database_sinks(database, database_of(dir), job));
    if (job == "ysb")
      return ysb_config(source_dir, dir, glob, generated / "campaigns.csv") +
             database_sinks(database, database_of(dir), job);
    return config(dir, glob);
  };
  std::ofstream(crash / "torture.toml") << config_of(crash, (live / "access.log*").string());
  std::ofstream(ref / "torture.toml") << config_of(ref, (ref / "access.log").string());

  // The writer appends the log in pieces, rotating by rename twice.
  const size_t pieces = 400;
  std::vector<size_t> cuts{0};
  for (size_t i = 1; i < pieces; ++i) {
    size_t at = text.find('\n', text.size() * i / pieces);
    cuts.push_back(at == std::string::npos ? text.size() : at + 1);
  }
  cuts.push_back(text.size());
  std::atomic<bool> written{false}, rotated{false};
  std::thread writer([&] {
    for (size_t i = 0; i < pieces; ++i) {
      if (i == pieces / 3 || i == 2 * pieces / 3) {
        if (fs::exists(live / "access.log.1")) fs::rename(live / "access.log.1", live / "access.log.2");
        fs::rename(live / "access.log", live / "access.log.1");
        rotated = true;
      }
      append(live / "access.log", std::string_view(text).substr(cuts[i], cuts[i + 1] - cuts[i]));
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
    written = true;
  });

  // Debug logging: the coordinator says when a checkpoint's parts are all
  // in (its write starts) and when it is written.
  const std::vector<std::string> run_live = {vigil, "run", "-c", (crash / "torture.toml").string(), "--log-level", "debug"};
  const fs::path log = crash / "vigil.log";
  pid_t pid = spawn_process(run_live, log.string());
  int sent = 0, at_rotation = 0, in_write = 0, at_big_close = 0, in_big_close = 0;
  std::uniform_int_distribution<int> pause_ms(30, 2 * 6000 / std::max(kills, 1));
  while (sent < kills) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(pause_ms(rng));
    bool rotation_kill = false;
    // With many clients every third kill waits for a big close instead:
    // one in its middle, the next right after one.
    const bool at_close = clients && sent % 3 == 2;
    while (!at_close && std::chrono::steady_clock::now() < until) {
      if (rotated.exchange(false)) {  // kill right as the tailed file rotates
        rotation_kill = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // Every third kill waits for a checkpoint's write to start and lands
    // in it, unless the write is over first (it takes milliseconds).
    std::string writing;
    if (!rotation_kill && sent % 3 == 2 && !at_close) writing = await_checkpoint_write(log, std::chrono::seconds(3));
    if (at_close && sent % 6 == 2) {
      in_big_close += await_big_close(log, "ip_minute", "closing", 100000, std::chrono::seconds(20))
                      // the first may have begun before the close did
                      && await_checkpoint_written(log, std::chrono::seconds(3))
                      && await_checkpoint_written(log, std::chrono::seconds(3))
                      && still_closing(read_file(log), "ip_minute");
    } else if (at_close) {
      at_big_close += await_big_close(log, "ip_minute", "closed", 100000, std::chrono::seconds(20));
    }
    ::kill(pid, SIGKILL);
    wait_process(pid);
    ++sent;
    at_rotation += rotation_kill;
    if (!writing.empty() && read_file(log).find(writing + ": written") == std::string::npos) ++in_write;
    // Every fourth run kills itself right after a database commit, before
    // the checkpoint that counts its rows.
    if (database != "none" && sent % 4 == 1) ::setenv("VIGIL_FAULT_KILL_AFTER_COMMIT", std::to_string(1 + rng() % 4).c_str(), 1);
    pid = spawn_process(run_live, log.string());
    ::unsetenv("VIGIL_FAULT_KILL_AFTER_COMMIT");
  }
  writer.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGKILL);
  wait_process(pid);
  ++sent;

  // The crashed run finishes the input; the reference reads it all at once.
  std::vector<std::string> once = run_live;
  once.push_back("--once");
  const int crash_rc = wait_process(spawn_process(once, (crash / "vigil.log").string()));
  append(ref / "access.log", text);
  ::unsetenv("VIGIL_CLOSE_SLICE_GROUPS");
  const int ref_rc = wait_process(spawn_process({vigil, "run", "-c", (ref / "torture.toml").string(), "--once"}, (ref / "vigil.log").string()));
  std::cout << "crash_torture: " << sent << " SIGKILLs (" << at_rotation << " at a rotation, " << in_write
            << " during a checkpoint write, " << in_big_close << " in the middle of a close of 100,000 groups or more, after a checkpoint taken in it, "
            << at_big_close << " right after one; " << resumed_closes(read_file(log), "ip_minute")
            << " restarts resumed a close in its middle), final run exit "
            << crash_rc << ", reference exit " << ref_rc << std::endl;

  bool ok = crash_rc == 0 && ref_rc == 0;
  std::vector<std::string> compared = {"minute.jsonl", "ip_minute.jsonl", "status.jsonl", "second.jsonl"};
  if (job == "orders") compared = {"minute.jsonl", "records.jsonl", "records.csv"};
  if (job == "ysb") compared = {"campaign_10s.jsonl"};
  for (const auto& sink : compared) {
    const std::string a = read_file(crash / sink), b = read_file(ref / sink);
    const bool same = a == b && !b.empty();
    std::cout << "crash_torture: " << sink << ": " << (same ? "identical" : "DIFFERENT") << " (" << a.size()
              << " vs " << b.size() << " bytes)" << std::endl;
    ok = ok && same;
  }
  if (job == "orders") {
    // The rotated sink: segments put back and written again after each
    // crash, together the unrotated file of the run that never crashed.
    std::string joined;
    size_t segments = 0;
    for (const auto& e : std::set<fs::path>(fs::directory_iterator(crash / "rotated"), fs::directory_iterator())) {
      if (e.filename() == "records.jsonl") continue;
      joined += read_file(e);
      ++segments;
    }
    joined += read_file(crash / "rotated" / "records.jsonl");
    const bool same = joined == read_file(ref / "records.jsonl") && segments > 0;
    std::cout << "crash_torture: rotated records: " << (same ? "identical" : "DIFFERENT") << " (" << segments
              << " segments)" << std::endl;
    ok = ok && same;
  }
  if (database != "none") {
    size_t after_commit = 0;
    const std::string all = read_file(crash / "vigil.log");
    for (size_t at = all.find("fault injection: SIGKILL after database commit"); at != std::string::npos;
         at = all.find("fault injection: SIGKILL after database commit", at + 1))
      ++after_commit;
    std::cout << "crash_torture: " << after_commit << " runs killed right after a database commit" << std::endl;
    for (const std::string table : job == "ysb" ? std::vector<std::string>{"campaign_10s"}
                                                : std::vector<std::string>{"records", "minute"}) {
      const std::string a = dump_table(database, database_of(crash), table, pg.get());
      const std::string b = dump_table(database, database_of(ref), table, pg.get());
      const bool same = a == b && std::count(b.begin(), b.end(), '\n') > 0 && b.find('|') != std::string::npos;
      std::cout << "crash_torture: " << database << " table " << table << ": " << (same ? "identical" : "DIFFERENT")
                << " (" << std::count(a.begin(), a.end(), '\n') << " vs " << std::count(b.begin(), b.end(), '\n')
                << " rows)" << std::endl;
      if (!same) {  // to diff
        std::ofstream(work / (table + ".crash.txt")) << a;
        std::ofstream(work / (table + ".ref.txt")) << b;
      }
      ok = ok && same;
    }
  }
  const auto bad_crash = quarantined(crash / "quarantine.jsonl"), bad_ref = quarantined(ref / "quarantine.jsonl");
  const bool same_bad = bad_crash == bad_ref && !bad_ref.empty();
  std::cout << "crash_torture: quarantine: " << (same_bad ? "same records" : "DIFFERENT") << " (" << bad_crash.size()
            << " vs " << bad_ref.size() << ")" << std::endl;
  ok = ok && same_bad;
  if (job == "ysb") {
    // YSB's own check over the crashed run's results (the events with the
    // malformed lines among them are what it read).
    std::ofstream(generated / "ad_events.jsonl", std::ios::trunc) << text;
    const std::string check = vigil + " gen events --kind ysb --out-dir '" + generated.string() + "' --check '"
                              + (crash / "campaign_10s.jsonl").string() + "' > '" + (work / "check.txt").string() + "'";
    const bool correct = std::system(check.c_str()) == 0 && read_file(work / "check.txt") == "CORRECT\n";
    std::cout << "crash_torture: YSB check: " << read_file(work / "check.txt");
    ok = ok && correct;
    if (database == "postgres") {
      // The same check, reading the counts back from the crashed run's table.
      const std::string from_table = vigil + " gen events --kind ysb --out-dir '" + generated.string() +
                                     "' --check-postgres '" + database_of(crash) + "' > '" + (work / "check-pg.txt").string() + "'";
      const bool table_correct = std::system(from_table.c_str()) == 0 && read_file(work / "check-pg.txt") == "CORRECT\n";
      std::cout << "crash_torture: YSB check from the postgres table: " << read_file(work / "check-pg.txt");
      ok = ok && table_correct;
    }
  }
  const auto ids_crash = alert_ids(crash / "alerts.jsonl"), ids_ref = alert_ids(ref / "alerts.jsonl");
  const bool same_ids = ids_crash == ids_ref && (job == "ysb" || !ids_ref.empty());
  std::cout << "crash_torture: alert ids: " << (same_ids ? "same" : "DIFFERENT") << " (" << ids_crash.size()
            << " vs " << ids_ref.size() << ")" << std::endl;
  ok = ok && same_ids;
  if (job == "web") {
    // The detector must have alerted, or its restore was not put to the test.
    const std::string ref_alerts = read_file(ref / "alerts.jsonl");
    size_t detector_alerts = 0;
    for (const std::string rule : {"status_traffic", "login_failures"})
      for (size_t at = ref_alerts.find("\"rule\":\"" + rule + "\""); at != std::string::npos;
           at = ref_alerts.find("\"rule\":\"" + rule + "\"", at + 1))
        ++detector_alerts;
    std::cout << "crash_torture: detector alerts (firing and resolved): " << detector_alerts << std::endl;
    ok = ok && detector_alerts > 0;
  }
  if (!ok || keep) std::cout << "crash_torture: work directory kept: " << work << std::endl;
  else fs::remove_all(work);
  std::cout << "crash_torture: " << (ok ? "PASS" : "FAIL") << " (seed " << seed << ")" << std::endl;
  return ok ? 0 : 1;
}
