#include "apps/gen_command.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "db/window_counts.hpp"
#include "parse/timestamp.hpp"
#include "workload/access_generator.hpp"
#include "workload/event_generator.hpp"

namespace vigil {

namespace {

std::atomic<bool> stop_requested{false};

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

/// The event time of a workload's first line: RFC 3339, or "now" (to the
/// second, or to the millisecond when event time must be read off the
/// clock). Nullopt after saying what is wrong.
std::optional<int64_t> start_time(const std::string& text, const char* command, bool exact_ms) {
  if (text == "now") {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return exact_ms ? std::chrono::duration_cast<std::chrono::milliseconds>(now).count()
                    : std::chrono::duration_cast<std::chrono::seconds>(now).count() * 1000;
  }
  log_time t;
  if (parse_rfc3339_time(text, t)) return t.utc_ms;
  std::cerr << command << ": bad --start '" << text << "' (RFC 3339, e.g. 2024-01-01T00:00:00Z, or now)\n";
  return std::nullopt;
}

/// `path` opened to append ("": stdout), or -1 after saying why.
int open_output(const std::string& path, const char* command) {
  if (path.empty()) return STDOUT_FILENO;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) std::cerr << command << ": " << path << ": cannot open: " << std::strerror(errno) << "\n";
  return fd;
}

/// Writes a generator's lines to `fd` until it is done or a signal comes:
/// as fast as possible in pieces of a few MB, or paced so that event time
/// follows the clock (`speed` times as fast). False when a write failed.
template <class Generator>
bool write_workload(Generator& gen, int fd, int64_t start_ms, bool no_pace, double speed) {
  std::signal(SIGINT, [](int) { stop_requested = true; });
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  std::string buf;
  bool ok = true;
  if (no_pace) {
    for (int64_t t = start_ms; ok && !gen.done() && !stop_requested; t += 1000) {
      gen.generate_until(t + 1000, buf);
      if (buf.size() > (4u << 20)) {
        ok = write_all(fd, buf);
        buf.clear();
      }
    }
  } else {
    // Each tick writes what is due.
    const auto t0 = std::chrono::steady_clock::now();
    while (ok && !gen.done() && !stop_requested) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      gen.generate_until(start_ms + static_cast<int64_t>(static_cast<double>(elapsed) * speed) + 1, buf);
      if (!buf.empty()) ok = write_all(fd, buf);
      buf.clear();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (ok && !buf.empty()) ok = write_all(fd, buf);
  if (fd != STDOUT_FILENO) ::close(fd);
  if (!ok) std::cerr << "vigil gen: write failed: " << std::strerror(errno) << "\n";
  return ok;
}

struct gen_flags {
  std::string out = "-";
  std::string plan_out;
  double rate = 1000;
  std::string duration = "60s";
  std::string inject;
  uint64_t seed = 1;
  std::string start = "now";
  std::string format = "combined";
  uint32_t clients = 500;
  bool no_pace = false;
};

int run_gen(const gen_flags& f) {
  access_workload_options opts;
  opts.seed = f.seed;
  opts.rate = f.rate;
  opts.clients = f.clients;
  auto d = parse_duration(f.duration);
  if (!d || d->count() == 0) {
    std::cerr << "vigil gen: bad --duration '" << f.duration << "' (e.g. 60s, 5m, 1h)\n";
    return 2;
  }
  opts.duration = *d;
  if (f.format != "combined" && f.format != "combined_rt") {
    std::cerr << "vigil gen: bad --format '" << f.format << "' (combined or combined_rt)\n";
    return 2;
  }
  opts.request_time = f.format == "combined_rt";
  const auto start = start_time(f.start, "vigil gen", false);
  if (!start) return 2;
  opts.start_ms = *start;
  std::stringstream list(f.inject);
  for (std::string item; std::getline(list, item, ',');) {
    if (item.empty()) continue;
    auto k = incident_from_string(item);
    if (!k) {
      std::cerr << "vigil gen: unknown incident '" << item << "' (scan, bruteforce, 5xx, latency, surge)\n";
      return 2;
    }
    opts.incidents.push_back(*k);
  }

  const int fd = open_output(f.out == "-" ? "" : f.out, "vigil gen");
  if (fd < 0) return 1;
  access_generator gen(opts);
  if (!f.plan_out.empty()) {
    nlohmann::ordered_json plan = nlohmann::ordered_json::array();
    for (const auto& p : gen.incidents())
      plan.push_back({{"incident", to_string(p.kind)}, {"client", p.client},
                      {"start", format_rfc3339_utc(p.start_ms)}, {"end", format_rfc3339_utc(p.end_ms)},
                      {"lines", p.lines}});
    std::ofstream(f.plan_out) << plan.dump(2) << "\n";
  }

  if (!write_workload(gen, fd, opts.start_ms, f.no_pace, 1.0)) return 1;
  std::cerr << "vigil gen: " << gen.lines() << " lines from " << format_rfc3339_utc(opts.start_ms);
  for (const auto& p : gen.incidents())
    std::cerr << "; " << to_string(p.kind) << (p.client.empty() ? "" : " from " + p.client) << " "
              << format_rfc3339_utc(p.start_ms) << ".." << format_rfc3339_utc(p.end_ms);
  std::cerr << "\n";
  return 0;
}

struct events_flags {
  std::string kind = "orders";
  std::string out_dir = ".";
  std::string out;  // the events file; default OUT_DIR/<kind's file>
  double rate = 1000;
  std::string duration = "60s";
  uint64_t count = 0;
  std::string inject;
  double bad_rate = 0.01;
  uint64_t seed = 1;
  std::string start = "now";
  bool no_pace = false;
  double speed = 1;
  std::string check;
  std::string check_postgres;
  std::string check_table = "campaign_10s";
};

int run_gen_events(const events_flags& f) {
  event_workload_options opts;
  auto kind = event_kind_from_string(f.kind);
  if (!kind) {
    std::cerr << "vigil gen events: unknown --kind '" << f.kind << "' (orders, clicks, ysb)\n";
    return 2;
  }
  opts.kind = *kind;
  const std::string dir = f.out_dir.empty() ? "." : f.out_dir;
  if (!f.check.empty() || !f.check_postgres.empty()) {
    if (opts.kind != event_kind::ysb) {
      std::cerr << "vigil gen events: --check is the YSB check: use it with --kind ysb\n";
      return 2;
    }
    ysb_verdict verdict;
    if (!f.check_postgres.empty()) {
      ysb_counts actual;
      std::string error;
      if (!postgres_window_counts(f.check_postgres, f.check_table, "campaign_id", "views", actual, error)) {
        std::cerr << "vigil gen events --check-postgres: table " << f.check_table << ": " << error << "\n";
        return 2;
      }
      verdict = ysb_check_counts(dir + "/ad_events.jsonl", dir + "/campaigns.csv", actual);
    } else {
      verdict = ysb_check(dir + "/ad_events.jsonl", dir + "/campaigns.csv", f.check);
    }
    std::cout << (verdict.correct ? "CORRECT" : "DIFFER") << "\n";
    std::cerr << "vigil gen events --check: " << verdict.detail << "\n";
    return verdict.correct ? 0 : 1;
  }
  opts.seed = f.seed;
  opts.rate = f.rate;
  opts.count = f.count;
  opts.bad_rate = f.bad_rate;
  auto d = parse_duration(f.duration);
  if (!d || d->count() == 0) {
    std::cerr << "vigil gen events: bad --duration '" << f.duration << "' (e.g. 60s, 5m, 1h)\n";
    return 2;
  }
  opts.duration_ms = d->count();
  // To the millisecond: event time is the wall clock, so latency can be read off it.
  const auto start = start_time(f.start, "vigil gen events", true);
  if (!start) return 2;
  opts.start_ms = *start;
  std::stringstream list(f.inject);
  for (std::string item; std::getline(list, item, ',');) {
    if (item.empty()) continue;
    auto k = event_incident_from_string(item);
    if (!k) {
      std::cerr << "vigil gen events: unknown incident '" << item
                << "' (revenue_drop, payment_failures, schema_drift, duplicates, late, bad)\n";
      return 2;
    }
    opts.incidents.push_back(*k);
  }
  event_generator gen(opts);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!gen.table_name().empty()) {
    const std::string table = dir + "/" + gen.table_name();
    std::ofstream t(table, std::ios::trunc);
    t << gen.table_csv();
    if (!t) {
      std::cerr << "vigil gen events: " << table << ": cannot write: " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  const std::string path = f.out == "-" ? "" : !f.out.empty() ? f.out : dir + "/" + gen.events_name();
  const int fd = open_output(path, "vigil gen events");
  if (fd < 0) return 1;
  if (!write_workload(gen, fd, opts.start_ms, f.no_pace, f.speed)) return 1;
  std::cerr << "vigil gen events: " << gen.events() << " " << f.kind << " events from " << format_rfc3339_utc(opts.start_ms)
            << (path.empty() ? "" : " to " + path);
  for (const auto& sl : gen.slices())
    std::cerr << "; " << to_string(sl.incident) << " " << format_rfc3339_utc(sl.start_ms) << ".."
              << format_rfc3339_utc(sl.end_ms);
  std::cerr << "\n";
  return 0;
}

} // namespace

void add_gen_command(CLI::App& app, int& exit_code) {
  auto* gen = app.add_subcommand("gen", "Deterministic synthetic workloads (seeded).");
  gen->require_subcommand(1);
  auto f = std::make_shared<gen_flags>();
  auto* access = gen->add_subcommand(
    "access",
    "Write a combined access log at a given rate, with injectable incidents.\n"
    "The same --seed and --start give the same bytes.");
  access->add_option("-o,--output", f->out, "file to append to (- for stdout)")->capture_default_str();
  access->add_option("--rate", f->rate, "background lines per second")->capture_default_str()
    ->check(CLI::Range(0.001, 1e9));
  access->add_option("--duration", f->duration, "event time covered, e.g. 60s, 5m")->capture_default_str();
  access->add_option("--inject", f->inject, "incidents, comma-separated: scan, bruteforce, 5xx, latency, surge (search traffic x4 from many clients)");
  access->add_option("--seed", f->seed, "random seed")->capture_default_str();
  access->add_option("--start", f->start, "event time of the first line: RFC 3339, or now")
    ->capture_default_str();
  access->add_option("--format", f->format, "combined | combined_rt (with request times)")
    ->capture_default_str();
  access->add_option("--clients", f->clients, "distinct background clients")->capture_default_str()
    ->check(CLI::Range(1u, 16000000u));
  access->add_option("--plan", f->plan_out, "write the injected incidents (client, time) as JSON to FILE");
  access->add_flag("--no-pace", f->no_pace, "write as fast as possible instead of at --rate in real time");
  access->callback([f, &exit_code] { exit_code = run_gen(*f); });

  auto e = std::make_shared<events_flags>();
  auto* events = gen->add_subcommand(
    "events",
    "Write a JSON event stream (one object a line) and the reference table it refers to, with\n"
    "injectable incidents. orders: OUT_DIR/orders.jsonl + products.csv; clicks: clicks.jsonl;\n"
    "ysb: ad_events.jsonl + campaigns.csv (the Yahoo Streaming Benchmark's layout).\n"
    "The same --seed and --start give the same bytes. --check RESULTS (ysb) recomputes the\n"
    "views per campaign and 10 s window from OUT_DIR and prints CORRECT or DIFFER.");
  events->add_option("--kind", e->kind, "orders | clicks | ysb")->capture_default_str();
  events->add_option("--out-dir", e->out_dir, "directory for the events file and its table")->capture_default_str();
  events->add_option("-o,--output", e->out, "events file to append to instead (- for stdout)");
  events->add_option("--rate", e->rate, "events per second (of event time)")->capture_default_str()
    ->check(CLI::Range(0.001, 1e9));
  events->add_option("--duration", e->duration, "event time covered, e.g. 60s, 5m")->capture_default_str();
  events->add_option("--count", e->count, "events in all (instead of rate x duration)");
  events->add_option("--inject", e->inject,
                     "incidents, comma-separated: revenue_drop, payment_failures, schema_drift, duplicates, late, bad");
  events->add_option("--bad-rate", e->bad_rate, "share of events the bad incident breaks")->capture_default_str()
    ->check(CLI::Range(0.0, 1.0));
  events->add_option("--seed", e->seed, "random seed")->capture_default_str();
  events->add_option("--start", e->start, "event time of the first event: RFC 3339, or now")->capture_default_str();
  events->add_flag("--no-pace", e->no_pace, "write as fast as possible instead of at --rate in real time");
  events->add_option("--speed", e->speed, "paced: event time runs this many times faster than the clock (a demo's minutes in seconds)")
    ->capture_default_str()->check(CLI::Range(0.01, 1000.0));
  events->add_option("--check", e->check, "ysb: check the window results in this file against OUT_DIR's input");
  events->add_option("--check-postgres", e->check_postgres,
                     "ysb: check the window results in a postgres sink's table instead (a libpq connection string)");
  events->add_option("--check-table", e->check_table, "ysb: that table")->capture_default_str();
  events->callback([e, &exit_code] { exit_code = run_gen_events(*e); });
}

} // namespace vigil
