#include "apps/analyze_command.hpp"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"
#include "pipeline/analyze_pipeline.hpp"
#include "report/analysis_report.hpp"
#include "report/report_writers.hpp"
#include "enrich/attack_record.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

namespace {

struct analyze_flags {
  std::vector<std::string> inputs;
  std::string format = "auto";
  std::string time_unit = "auto";
  std::string json_out, html_out, quarantine_out, blacklist_out, attacks_out;
  std::vector<std::string> signature_files;
  std::vector<std::string> json_fields;
  size_t top = 10;
  size_t workers = 0;
  size_t max_line = 64 * 1024;
  size_t chunk_size = 1u << 20;
  bool progress = true;
  bool allow_empty = false;
  report_options report;
};

/// An output file ("-" = stdout) written piece by piece, so a large one
/// (100,000 quarantined lines) is never held whole in memory. Plain POSIX
/// calls, so the reason (no such directory, read-only, a directory given
/// as the file, a full disk) reaches the user.
class output_file {
public:
  output_file(const std::string& path, std::string& error) : path_(path), error_(error) {
    if (path == "-") std::cout.flush();  // what went to std::cout comes first
    fd_ = path == "-" ? 1 : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(errno);
  }
  ~output_file() { close(); }
  bool write(std::string_view text) {
    for (size_t done = 0; ok_ && done < text.size();) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(n < 0 ? errno : EIO);
      else done += static_cast<size_t>(n);
    }
    return ok_;
  }
  bool close() {
    if (fd_ > 2 && ::close(fd_) != 0 && ok_) fail(errno);
    fd_ = -1;
    return ok_;
  }

private:
  void fail(int err) {
    error_ = path_ + ": cannot write: " + std::strerror(err);
    ok_ = false;
  }
  std::string path_;
  std::string& error_;
  int fd_ = -1;
  bool ok_ = true;
};

/// Writes `text` to `path` ("-" = stdout). Returns false with `error` set.
bool write_output(const std::string& path, const std::string& text, std::string& error) {
  output_file out(path, error);
  return out.write(text) && out.close();
}

/// Records that name a chunk and a line in it (quarantined lines, attack
/// requests), in input order, with their 1-based line numbers in their input.
template <class Record>
std::vector<std::pair<const Record*, uint64_t>> numbered(const batch_aggregate& agg, const std::vector<Record>& all) {
  // Line number of each chunk's first line: chunks of an input are consecutive.
  std::vector<chunk_lines> chunks = agg.chunks;
  std::sort(chunks.begin(), chunks.end(),
            [](const chunk_lines& a, const chunk_lines& b) { return a.sequence < b.sequence; });
  std::map<uint64_t, uint64_t> first_line;
  std::map<uint32_t, uint64_t> next_line;
  for (const auto& c : chunks) {
    uint64_t& n = next_line[c.input];
    first_line[c.sequence] = n;
    n += c.lines;
  }
  std::vector<std::pair<const Record*, uint64_t>> recs;
  for (const auto& q : all) recs.emplace_back(&q, first_line[q.sequence] + q.line + 1);
  std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first->sequence, a.first->line) < std::tie(b.first->sequence, b.first->line);
  });
  return recs;
}

std::vector<std::pair<const quarantine_record*, uint64_t>> numbered_quarantine(const batch_aggregate& agg) {
  return numbered(agg, agg.quarantine);
}

/// Attack requests as JSON lines to `path`, in input order: where, who,
/// what, and each class with the fields and signatures it matched on.
bool write_attacks(const std::string& path, const batch_aggregate& agg, const std::vector<std::string>& names,
                   std::string& error) {
  output_file out(path, error);
  for (const auto& [a, line] : numbered(agg, agg.attacks)) {
    nlohmann::ordered_json j = {{"input", names[a->input]}, {"line", line},
                                {"time", format_rfc3339_utc(a->time_ms)}, {"client", a->client},
                                {"method", a->method}, {"target", a->target}, {"status", a->status},
                                {"user_agent", a->user_agent}};
    if (!out.write(with_attacks(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), a->attacks) + "\n"))
      return false;
  }
  return out.close();
}

/// Malformed lines as JSON lines to `path`, in input order with 1-based
/// line numbers.
bool write_quarantine(const std::string& path, const batch_aggregate& agg, const std::vector<std::string>& names,
                      std::string& error) {
  output_file out(path, error);
  for (const auto& [q, line] : numbered_quarantine(agg)) {
    nlohmann::ordered_json j = {{"input", names[q->input]},
                                {"line", line},
                                {"reason", to_string(q->reason)},
                                {"text", q->text}};
    if (!out.write(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n")) return false;
  }
  return out.close();
}

/// A line as a person can read it on a terminal: at most 100 bytes, other
/// than printable ASCII shown as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < 100; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (text.size() > 100) out += "...";
  return out;
}

/// What to tell a user whose input (nearly) all failed to parse: the
/// format each input was read as, the first failing line and why, and
/// what to try. "" when enough lines were valid.
std::string explain_failures(const batch_aggregate& agg, const std::vector<std::string>& inputs,
                             const std::vector<log_format>& formats, bool auto_format) {
  uint64_t failed = 0;
  for (auto n : agg.failed_by_reason) failed += n;
  if (agg.valid == 0 && failed == 0) return "no lines in the input";
  if (agg.valid > 0 && failed < 9 * agg.valid) return "";  // under 90% failed
  std::string msg = std::to_string(agg.valid) + " of " + std::to_string(agg.valid + failed)
                    + " lines parsed; read as";
  for (size_t i = 0; i < inputs.size() && i < formats.size(); ++i)
    msg += (i ? ", " : " ") + std::string(to_string(formats[i])) + " (" + inputs[i] + ")";
  msg += auto_format ? ", sniffed from the first lines" : ", as --log-format says";
  auto recs = numbered_quarantine(agg);
  if (!recs.empty()) {
    const auto& [q, line] = recs.front();
    msg += ".\n  first failing line: " + inputs[q->input] + ":" + std::to_string(line) + ": "
           + std::string(to_string(q->reason)) + ": " + printable(q->text);
  }
  msg += "\n  is it a log? Try --log-format common, combined, combined_rt or json";
  return msg;
}
/// A one-line progress bar on stderr, redrawn at most ten times a second.
class progress_bar {
public:
  void update(const chunk_reader& r) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double done = r.total_bytes() ? static_cast<double>(r.consumed_bytes())
                                      / static_cast<double>(r.total_bytes())
                                  : 0;
    double secs = std::chrono::duration<double>(now - start_).count();
    int width = 30, filled = static_cast<int>(done * width);
    std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %.0f MB/s ", filled,
                 "##############################", width - filled, "", done * 100,
                 secs > 0 ? static_cast<double>(r.text_bytes()) / 1e6 / secs : 0.0);
    shown_ = true;
  }
  ~progress_bar() {
    if (shown_) std::fprintf(stderr, "\r%60s\r", "");
  }

private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
  bool shown_ = false;
};

int run(analyze_flags& f) {
  analyze_job job;
  // Usage errors (exit 2) are found before any input is read.
  auto fmt = log_format_from_string(f.format);
  if (!fmt) {
    std::cerr << "vigil analyze: unknown --log-format '" << f.format
              << "' (expected auto, common, combined, combined_rt or json)\n";
    return 2;
  }
  static const std::map<std::string, time_unit> units = {
    {"auto", time_unit::auto_detect}, {"s", time_unit::seconds},
    {"ms", time_unit::milliseconds}, {"us", time_unit::microseconds}};
  auto unit = units.find(f.time_unit);
  if (unit == units.end()) {
    std::cerr << "vigil analyze: unknown --time-unit '" << f.time_unit << "' (expected auto, s, ms or us)\n";
    return 2;
  }
  job.parser.format = *fmt;
  job.parser.request_time_unit = unit->second;
  job.parser.max_line_bytes = f.max_line;
  for (const auto& spec : f.json_fields) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()
        || !job.parser.fields.set(spec.substr(0, eq), spec.substr(eq + 1))) {
      std::cerr << "vigil analyze: bad --json-field '" << spec
                << "' (expected ROLE=KEY; roles: client user time request method path protocol "
                   "status bytes referer user_agent request_time vhost)\n";
      return 2;
    }
  }
  signature_set sigs = signature_set::defaults();
  std::string error;
  for (const auto& file : f.signature_files) {
    if (!sigs.add_file(file, error)) {
      std::cerr << "vigil analyze: " << error << "\n";
      return 2;
    }
  }
  job.aggregate.keep_attacks = !f.attacks_out.empty();
  job.aggregate.signatures = f.signature_files.empty() ? signature_matcher::builtin(error)
                                                       : signature_matcher::compile(sigs, error);
  if (!job.aggregate.signatures) {
    std::cerr << "vigil analyze: " << error << "\n";
    return 2;
  }
  if (f.inputs.empty()) {
    if (::isatty(STDIN_FILENO)) {
      std::cerr << "vigil analyze: no input: give one or more FILEs, or - to read standard input\n";
      return 2;
    }
    f.inputs.push_back("-");
  }
  job.inputs = f.inputs;
  job.workers = f.workers;
  job.reader.format = *fmt;
  job.reader.max_line_bytes = f.max_line;
  job.reader.chunk_bytes = std::max<size_t>(f.chunk_size, 4096);
  std::unique_ptr<progress_bar> bar;
  if (f.progress && ::isatty(STDERR_FILENO)) {
    bar = std::make_unique<progress_bar>();
    job.on_progress = [b = bar.get()](const chunk_reader& r) {
      if (r.total_bytes() >= (64u << 20)) b->update(r);
    };
  }

  analyze_outcome outcome;
  if (!run_analyze(job, outcome, error)) {
    bar.reset();
    std::cerr << "vigil analyze: " << error << "\n";
    return 1;
  }
  bar.reset();
  f.report.top = f.top;
  analysis_report report = build_report(*outcome.aggregate, f.report);
  report_inputs in{f.inputs, outcome.formats};

  bool ok = true;
  if (!f.json_out.empty()) ok &= write_output(f.json_out, render_json(report, in), error);
  if (ok && !f.html_out.empty()) ok &= write_output(f.html_out, render_html(report, in), error);
  if (ok && !f.quarantine_out.empty())
    ok &= write_quarantine(f.quarantine_out, *outcome.aggregate, f.inputs, error);
  if (ok && !f.attacks_out.empty())
    ok &= write_attacks(f.attacks_out, *outcome.aggregate, f.inputs, error);
  if (ok && !f.blacklist_out.empty()) {
    std::string list;
    for (const auto& e : report.blacklist) list += e.client + "\n";
    ok &= write_output(f.blacklist_out, list, error);
  }
  if (!ok) {
    std::cerr << "vigil analyze: " << error << "\n";
    return 1;
  }
  // The terminal summary, unless a report already went to stdout.
  if (f.json_out != "-" && f.html_out != "-" && f.quarantine_out != "-" && f.blacklist_out != "-" &&
      f.attacks_out != "-")
    render_text(std::cout, report, in, outcome.elapsed_s, outcome.text_bytes);
  const std::string failures = explain_failures(*outcome.aggregate, f.inputs, outcome.formats, *fmt == log_format::auto_detect);
  if (!failures.empty()) {
    const bool none = outcome.aggregate->valid == 0;
    std::cerr << "vigil analyze: " << (none && !f.allow_empty ? "error: " : "warning: ") << failures << "\n";
    if (none && !f.allow_empty) {
      std::cerr << "vigil analyze: no valid line, exit 1 (--allow-empty makes this exit 0)\n";
      return 1;
    }
  }
  if (outcome.aggregate->quarantine_dropped > 0)
    std::cerr << "vigil analyze: " << outcome.aggregate->quarantine_dropped
              << " malformed lines were counted but not kept for the quarantine file (limit "
              << job.aggregate.quarantine_limit << ")\n";
  if (outcome.aggregate->attacks_dropped > 0)
    std::cerr << "vigil analyze: " << outcome.aggregate->attacks_dropped
              << " attack requests were counted but not kept for the attacks file (limit "
              << job.aggregate.attack_limit << ")\n";
  return 0;
}

} // namespace

void add_analyze_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<analyze_flags>();
  auto* cmd = app.add_subcommand(
    "analyze",
    "Batch report over whole access logs (plain or .gz; several files; - for stdin).\n"
    "Prints a terminal summary; --json and --html write full reports.");
  cmd->add_option("FILE", flags->inputs, "log files to read; - reads standard input");
  cmd->add_option("--log-format,-f", flags->format,
                  "auto | common | combined | combined_rt | json (auto: sniffed per file)")
    ->capture_default_str();
  cmd->add_option("--time-unit", flags->time_unit,
                  "unit of a bare request-time number: auto (0.123 = s, 123 = us) | s | ms | us")
    ->capture_default_str();
  cmd->add_option("--json", flags->json_out, "write the JSON report to OUT (- for stdout)");
  cmd->add_option("--html", flags->html_out, "write a self-contained HTML report to OUT");
  cmd->add_option("--top", flags->top, "entries in each top list")->capture_default_str()
    ->check(CLI::Range(1, 100000));
  cmd->add_option("--quarantine", flags->quarantine_out,
                  "write malformed lines with their reason to OUT (JSON lines)");
  cmd->add_option("--attacks", flags->attacks_out,
                  "write each request an attack signature matched to OUT (JSON lines: input, line, time, client, "
                  "request, and each class with the fields and signature ids it matched on; - for stdout)");
  cmd->add_option("--blacklist", flags->blacklist_out,
                  "write the offending clients to OUT, one a line, for a firewall");
  cmd->add_option("--signatures", flags->signature_files,
                  "extra signature file(s) (ID FIELDS PATTERN lines, as config/signatures.txt) added to the built-in set")
    ->check(CLI::ExistingFile)->allow_extra_args(false);
  cmd->add_option("--json-field", flags->json_fields,
                  "for --log-format json: ROLE=KEY maps a JSON key to an event field, "
                  "e.g. client=remote_addr")
    ->type_name("ROLE=KEY")->allow_extra_args(false);
  cmd->add_option("--workers,-j", flags->workers, "parse workers (default: one per core)");
  cmd->add_option("--max-line", flags->max_line, "longer lines are quarantined as too_long")
    ->capture_default_str()->check(CLI::Range(size_t{256}, size_t{1} << 30));
  cmd->add_option("--404-burst", flags->report.not_found_burst,
                  "404s per client per minute that make a 404 burst")->capture_default_str();
  cmd->add_option("--auth-burst", flags->report.auth_failure_burst,
                  "401/403 on login paths per client per minute that make brute force")
    ->capture_default_str();
  cmd->add_option("--flood", flags->report.flood_requests,
                  "requests per client per minute that make a flood")->capture_default_str();
  cmd->add_option("--attacks-to-blacklist", flags->report.attack_hits_to_blacklist,
                  "attack requests (any class; probes answered below 400 not counted) that blacklist a client")->capture_default_str();
  cmd->add_option("--chunk-size", flags->chunk_size, "bytes per parse chunk")
    ->capture_default_str()->group("");  // tuning and tests only
  cmd->add_flag("--allow-empty", flags->allow_empty,
                "exit 0 even when no line parsed (an empty input, or one that is not a log); by default that is "
                "exit 1, with the first failing line and its reason");
  cmd->add_flag_callback("--no-progress", [flags] { flags->progress = false; }, "no progress bar on stderr");
  cmd->callback([flags, &exit_code] { exit_code = run(*flags); });
}

} // namespace vigil
