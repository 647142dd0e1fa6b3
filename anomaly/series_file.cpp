#include "anomaly/series_file.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#include "parse/timestamp.hpp"

namespace vigil {

namespace {

constexpr size_t max_row_bytes = 4096;

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool read_number(std::string_view s, double& out) {
  s = trimmed(s);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

std::optional<int64_t> parse_series_time(std::string_view text) {
  text = trimmed(text);
  log_time t;
  if (parse_rfc3339_time(text, t)) return t.utc_ms;
  if (text.size() >= 19 && text.size() < 40) {
    // NAB writes no zone: the times are UTC.
    char buf[48];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = 'Z';
    if (parse_rfc3339_time(std::string_view(buf, text.size() + 1), t)) return t.utc_ms;
  }
  double seconds = 0;
  if (read_number(text, seconds) && seconds > -1e12 && seconds < 1e12) return static_cast<int64_t>(seconds * 1000);
  return std::nullopt;
}

std::string score_series_file(const detector_params& params, const std::string& in_path,
                              const std::string& out_path, series_file_stats& stats) {
  std::ifstream in(in_path, std::ios::binary);
  if (!in) return in_path + ": " + std::strerror(errno);
  std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(out_path.c_str(), "wb"), &std::fclose);
  if (!out) return out_path + ": " + std::strerror(errno);
  std::string buf = "timestamp,value,anomaly_score\n";
  buf.reserve(1 << 20);

  series_detector detector(params);
  uint64_t line_no = 0;
  bool header = true;
  // A line at a time into one buffer: a series file may be larger than
  // memory, and a line longer than any sane row is cut.
  char row[max_row_bytes];
  for (;;) {
    in.getline(row, sizeof row);
    if (in.bad() || (in.eof() && in.gcount() == 0)) break;
    std::string_view line(row, std::strlen(row));
    if (in.fail() && !in.eof()) {
      // Longer than any row of a time and a number: cut, the rest skipped.
      in.clear();
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (header) {
      header = false;
      // The header is optional: a first row that reads is a point.
      const size_t comma = line.find(',');
      double v;
      if (comma == std::string_view::npos || !parse_series_time(line.substr(0, comma))
          || !read_number(line.substr(comma + 1), v))
        continue;
    }
    const size_t comma = line.find(',');
    std::string_view time_text = comma == std::string_view::npos ? line : line.substr(0, comma);
    std::string_view value_text = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
    if (size_t next = value_text.find(','); next != std::string_view::npos) value_text = value_text.substr(0, next);
    double value = 0;
    const auto time = parse_series_time(time_text);
    double score = 0;
    if (!time || !read_number(value_text, value)) {
      if (stats.skipped++ == 0)
        stats.first_problem = in_path + ":" + std::to_string(line_no) + ": "
                              + (time ? "value '" + std::string(value_text.substr(0, 60)) + "' is not a number"
                                      : "time '" + std::string(time_text.substr(0, 60)) + "' does not read");
    } else {
      const anomaly_point p = detector.observe(*time, value);
      score = p.score;
      stats.alerts += p.alert;
      ++stats.points;
    }
    buf.append(time_text);
    buf += ',';
    buf.append(value_text);
    buf += ',';
    char num[32];
    auto [ptr, ec] = std::to_chars(num, num + sizeof num, score);
    buf.append(num, ptr);
    buf += '\n';
    if (buf.size() > (1 << 20) - 256) {
      if (std::fwrite(buf.data(), 1, buf.size(), out.get()) != buf.size()) return out_path + ": " + std::strerror(errno);
      buf.clear();
    }
  }
  if (in.bad()) return in_path + ": read failed";
  if (std::fwrite(buf.data(), 1, buf.size(), out.get()) != buf.size() || std::fflush(out.get()) != 0)
    return out_path + ": " + std::strerror(errno);
  return "";
}

} // namespace vigil
