#include <cinttypes>
#include <cstdio>

#include "parse/timestamp.hpp"
#include "report/report_writers.hpp"

namespace vigil {

std::string human_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string format_micros(uint64_t us) {
  char buf[32];
  if (us < 1000)
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " us", us);
  else if (us < 1000000)
    std::snprintf(buf, sizeof(buf), "%.1f ms", static_cast<double>(us) / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.2f s", static_cast<double>(us) / 1e6);
  return buf;
}

namespace {

std::string clip(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 3) + "...";
}

std::string percent(uint64_t part, uint64_t whole) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%5.1f%%",
                whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

void table(std::ostream& out, const char* title, const std::vector<ranked_item>& items,
           uint64_t total, bool bytes = true) {
  if (items.empty()) return;
  out << "\n" << title << "\n";
  char buf[64];
  for (const auto& i : items) {
    std::snprintf(buf, sizeof(buf), "  %10" PRIu64 " ", i.hits);
    out << buf << percent(i.hits, total);
    if (bytes) {
      std::snprintf(buf, sizeof(buf), " %11s", human_bytes(i.bytes).c_str());
      out << buf;
    }
    out << "  " << clip(i.value, 72) << "\n";
  }
}

} // namespace

void render_text(std::ostream& out, const analysis_report& r, const report_inputs& in,
                 double elapsed_s, uint64_t input_bytes) {
  char buf[256];
  out << "vigil analyze";
  for (size_t i = 0; i < in.names.size(); ++i)
    out << (i ? ", " : ": ") << in.names[i] << " ("
        << (i < in.formats.size() ? to_string(in.formats[i]) : "?") << ")";
  out << "\n";
  if (r.first_ms)
    out << "period          " << format_rfc3339_utc(*r.first_ms) << " .. "
        << format_rfc3339_utc(*r.last_ms) << "\n";
  std::snprintf(buf, sizeof(buf),
                "requests        %" PRIu64 " total, %" PRIu64 " valid, %" PRIu64 " failed\n"
                "visitors        %" PRIu64 " unique, %" PRIu64 " sessions (%.2f per visitor)\n"
                "page views      %" PRIu64 "   static %" PRIu64 "   bots %" PRIu64 "\n",
                r.total_requests, r.valid_requests, r.failed_requests, r.unique_visitors,
                r.sessions, r.sessions_per_visitor, r.page_views, r.static_requests,
                r.bot_requests);
  out << buf;
  out << "bandwidth       " << human_bytes(r.bandwidth) << " (" << r.bandwidth << " bytes)\n";
  std::snprintf(buf, sizeof(buf), "errors          5xx %.2f%%   4xx %.2f%%\n", r.error_rate * 100,
                r.client_error_rate * 100);
  out << buf;
  out << "status classes ";
  for (size_t i = 0; i < r.status_classes.size(); ++i)
    if (r.status_classes[i]) out << "  " << i + 1 << "xx " << r.status_classes[i];
  out << "\nstatus codes   ";
  for (auto [code, count] : r.status_codes) out << "  " << code << " " << count;
  out << "\n";
  if (r.latency) {
    const auto& l = *r.latency;
    out << "latency         p50 " << format_micros(l.p50) << "   p90 " << format_micros(l.p90)
        << "   p95 " << format_micros(l.p95) << "   p99 " << format_micros(l.p99) << "   max "
        << format_micros(l.max) << "\n";
  }

  table(out, "Top paths", r.top_paths, r.valid_requests);
  table(out, "Top 404 paths", r.top_404, r.status_classes[3]);
  table(out, "Top 5xx paths", r.top_5xx, r.status_classes[4]);
  table(out, "Top hosts", r.top_hosts, r.valid_requests);
  table(out, "Top referrers", r.top_referrers, r.valid_requests);
  if (!r.slow_paths.empty()) {
    out << "\nSlowest paths (mean)\n";
    for (const auto& s : r.slow_paths) {
      std::snprintf(buf, sizeof(buf), "  %10s %10s %8" PRIu64 "  ", format_micros(s.mean_us).c_str(),
                    format_micros(s.max_us).c_str(), s.hits);
      out << buf << clip(s.path, 72) << "\n";
    }
  }

  out << "\nSecurity\n";
  if (r.findings.empty() && r.bursts.empty()) out << "  no findings\n";
  for (const auto& f : r.findings) {
    std::snprintf(buf, sizeof(buf), "  %-10s %8" PRIu64 " %s from %" PRIu64 " %s",
                  std::string(to_string(f.cls)).c_str(), f.hits, f.hits == 1 ? "request" : "requests", f.clients,
                  f.clients == 1 ? "client" : "clients");
    out << buf;
    if (!f.top_paths.empty()) out << "; e.g. " << clip(f.top_paths.front().value, 48);
    out << "\n";
  }
  for (const auto& b : r.bursts) {
    std::snprintf(buf, sizeof(buf), "  %-12s %-40s peak %" PRIu64 "/min over %" PRIu64 " min\n",
                  b.kind.c_str(), clip(b.client, 40).c_str(), b.peak, b.minutes);
    out << buf;
  }
  if (!r.blacklist.empty())
    out << "  blacklist: " << r.blacklist.size() << (r.blacklist.size() == 1 ? " client\n" : " clients\n");

  out << "\nData quality\n";
  std::snprintf(buf, sizeof(buf),
                "  lines %" PRIu64 "   parsed %" PRIu64 "   malformed %" PRIu64
                "   duplicates %" PRIu64 "   empty %" PRIu64 "\n",
                r.lines + r.empty_lines, r.valid_requests, r.failed_requests, r.duplicates,
                r.empty_lines);
  out << buf;
  for (size_t i = 1; i < r.malformed.size(); ++i)
    if (r.malformed[i])
      out << "  malformed " << to_string(static_cast<parse_error>(i)) << ": " << r.malformed[i] << "\n";
  std::snprintf(buf, sizeof(buf),
                "  missing: size %" PRIu64 ", referer %" PRIu64 ", user agent %" PRIu64
                ", request %" PRIu64 "; user agent cut short %" PRIu64 "\n",
                r.missing_bytes, r.missing_referer, r.missing_user_agent, r.missing_request,
                r.truncated_user_agent);
  out << buf;
  if (elapsed_s > 0) {
    std::snprintf(buf, sizeof(buf), "\nanalysed %" PRIu64 " lines (%s) in %.2f s: %.0f lines/s, %.1f MB/s\n",
                  r.lines + r.empty_lines, human_bytes(input_bytes).c_str(), elapsed_s,
                  static_cast<double>(r.lines + r.empty_lines) / elapsed_s,
                  static_cast<double>(input_bytes) / 1e6 / elapsed_s);
    out << buf;
  }
}

} // namespace vigil
