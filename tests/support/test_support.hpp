#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/analyze_pipeline.hpp"
#include "report/analysis_report.hpp"
#include "signature/signature_matcher.hpp"
#include "support/process.hpp"

namespace vigil::test {

inline std::string fixture(const std::string& name) { return std::string(VIGIL_FIXTURES) + "/" + name; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

/// A fresh directory under the system temp dir, removed at scope exit.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::shared_ptr<const signature_matcher> default_signatures() {
  static auto matcher = [] {
    std::string error;
    auto m = signature_matcher::compile(signature_set::defaults(), error);
    if (!m) throw std::runtime_error(error);
    return m;
  }();
  return matcher;
}

/// Runs the real analyze graph over `files`.
inline analyze_outcome analyze(std::vector<std::string> files, size_t workers = 2,
                               log_format format = log_format::auto_detect,
                               size_t chunk_bytes = 1u << 20) {
  analyze_job job;
  job.inputs = std::move(files);
  job.workers = workers;
  job.parser.format = format;
  job.reader.format = format;
  job.reader.chunk_bytes = chunk_bytes;
  job.aggregate.signatures = default_signatures();
  analyze_outcome out;
  std::string error;
  if (!run_analyze(job, out, error)) throw std::runtime_error(error);
  return out;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

/// Polls `done` every 50 ms, at most ~20 s; whether it came true.
inline bool wait_until(const std::function<bool()>& done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick,
/// so tests running side by side do not meet).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

/// The value of the series `name` (labels as written, e.g.
/// `vigil_sinks_failing` or `x{source="in"}`) in a Prometheus text page;
/// -1 when absent.
inline double metric(const std::string& page, const std::string& name) {
  const auto at = page.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(page.c_str() + at + name.size() + 2, nullptr);
}

struct command_result {
  int exit_code = -1;
  std::string out;
};

/// Runs a shell command, capturing stdout.
inline command_result run_command(const std::string& cmd) {
  command_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

} // namespace vigil::test
