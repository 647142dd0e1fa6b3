#include "apps/gen_command.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"
#include "workload/access_generator.hpp"

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
  if (f.start == "now") {
    opts.start_ms = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count() * 1000;
  } else {
    log_time t;
    if (!parse_rfc3339_time(f.start, t)) {
      std::cerr << "vigil gen: bad --start '" << f.start << "' (RFC 3339, e.g. 2024-01-01T00:00:00Z, or now)\n";
      return 2;
    }
    opts.start_ms = t.utc_ms;
  }
  std::stringstream list(f.inject);
  for (std::string item; std::getline(list, item, ',');) {
    if (item.empty()) continue;
    auto k = incident_from_string(item);
    if (!k) {
      std::cerr << "vigil gen: unknown incident '" << item << "' (scan, bruteforce, 5xx, latency)\n";
      return 2;
    }
    opts.incidents.push_back(*k);
  }

  int fd = STDOUT_FILENO;
  if (f.out != "-") {
    fd = ::open(f.out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::cerr << "vigil gen: " << f.out << ": cannot open: " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  access_generator gen(opts);
  if (!f.plan_out.empty()) {
    nlohmann::ordered_json plan = nlohmann::ordered_json::array();
    for (const auto& p : gen.incidents())
      plan.push_back({{"incident", to_string(p.kind)}, {"client", p.client},
                      {"start", format_rfc3339_utc(p.start_ms)}, {"end", format_rfc3339_utc(p.end_ms)},
                      {"lines", p.lines}});
    std::ofstream(f.plan_out) << plan.dump(2) << "\n";
  }

  std::signal(SIGINT, [](int) { stop_requested = true; });
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  std::string buf;
  bool ok = true;
  if (f.no_pace) {
    // As fast as possible, in pieces of a few MB.
    for (int64_t t = opts.start_ms; ok && !gen.done() && !stop_requested; t += 1000) {
      gen.generate_until(t + 1000, buf);
      if (buf.size() > (4u << 20)) {
        ok = write_all(fd, buf);
        buf.clear();
      }
    }
  } else {
    // Event time follows the wall clock: each tick writes what is due.
    const auto t0 = std::chrono::steady_clock::now();
    while (ok && !gen.done() && !stop_requested) {
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - t0).count();
      gen.generate_until(opts.start_ms + elapsed + 1, buf);
      if (!buf.empty()) ok = write_all(fd, buf);
      buf.clear();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (ok && !buf.empty()) ok = write_all(fd, buf);
  if (fd != STDOUT_FILENO) ::close(fd);
  if (!ok) {
    std::cerr << "vigil gen: write failed: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::cerr << "vigil gen: " << gen.lines() << " lines from " << format_rfc3339_utc(opts.start_ms);
  for (const auto& p : gen.incidents())
    std::cerr << "; " << to_string(p.kind) << (p.client.empty() ? "" : " from " + p.client) << " "
              << format_rfc3339_utc(p.start_ms) << ".." << format_rfc3339_utc(p.end_ms);
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
  access->add_option("--inject", f->inject, "incidents, comma-separated: scan, bruteforce, 5xx, latency");
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
}

} // namespace vigil
