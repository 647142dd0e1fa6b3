#include "metrics/process_metrics.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

#include "metrics/registry.hpp"

namespace vigil {

namespace {

/// Fields 14 (utime), 15 (stime), 22 (starttime) of /proc/self/stat, in
/// clock ticks; the command name (field 2) may hold spaces, so count after it.
bool read_stat(double& cpu_ticks, double& start_ticks) {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
    if (i == 22) start_ticks = std::stod(field);
  }
  cpu_ticks = utime + stime;
  return true;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

} // namespace

void add_process_metrics(metrics_registry& r) {
  using kind = metrics_registry::kind;
  r.describe("process_cpu_seconds_total", kind::counter, "User and system CPU time spent, in seconds.");
  r.describe("process_resident_memory_bytes", kind::gauge, "Resident memory size in bytes.");
  r.describe("process_virtual_memory_bytes", kind::gauge, "Virtual memory size in bytes.");
  r.describe("process_open_fds", kind::gauge, "Open file descriptors.");
  r.describe("process_max_fds", kind::gauge, "The limit of open file descriptors (RLIMIT_NOFILE).");
  r.describe("process_start_time_seconds", kind::gauge, "Start time of the process since the Unix epoch, in seconds.");
  r.describe("vigil_process_disk_read_bytes_total", kind::counter,
             "Bytes the process read from storage (/proc/self/io read_bytes; the page cache's hits are not in it).");
  r.describe("vigil_process_disk_written_bytes_total", kind::counter,
             "Bytes the process caused to be written to storage (/proc/self/io write_bytes).");
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double boot = boot_time_seconds();
  r.on_render([ticks, page, boot](metrics_registry& m) {
    double cpu = 0, start = 0;
    if (read_stat(cpu, start)) {
      m.set("process_cpu_seconds_total", {}, cpu / ticks);
      m.set("process_start_time_seconds", {}, boot + start / ticks);
    }
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = 0;
    if (statm >> size >> resident) {
      m.set("process_virtual_memory_bytes", {}, size * page);
      m.set("process_resident_memory_bytes", {}, resident * page);
    }
    std::error_code ec;
    size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++fds;
    m.set("process_open_fds", {}, static_cast<double>(fds));
    // Absent where the kernel keeps /proc/self/io from the process (no
    // task accounting): the series are then left out, not zero.
    std::ifstream io("/proc/self/io");
    std::string key;
    double value = 0;
    while (io >> key >> value) {
      if (key == "read_bytes:") m.set("vigil_process_disk_read_bytes_total", {}, value);
      if (key == "write_bytes:") m.set("vigil_process_disk_written_bytes_total", {}, value);
    }
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) m.set("process_max_fds", {}, static_cast<double>(limit.rlim_cur));
  });
}

} // namespace vigil
