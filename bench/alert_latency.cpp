// Append-to-alert latency of `vigil run`: a writer appends access-log lines
// at a steady background rate and, at known instants, a line that trips a
// rule (a probe from an address used once). A watcher polls the alert JSONL
// sink; the latency of a marker is from just before its write() to the
// moment its alert line is seen in the sink file.
//
//   build/bench/alert_latency build/vigil [--rate 100000] [--seconds 20] [--markers-per-second 10]
//                                         [--checkpoint-interval 1s]  ("0s": none but the last)
//                                         [--log-level debug]  (trace: each checkpoint part as it arrives)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <fcntl.h>
#include <vector>

extern char** environ;

namespace {

using steady = std::chrono::steady_clock;

// The UTC second of the minute at steady time `t`.
int second_of_minute(steady::time_point t) {
  const auto wall = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(steady::now() - t);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count() % 60);
}

std::string clf_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
  return buf;
}

std::string line(const std::string& ip, const std::string& stamp, const char* path, int status) {
  return ip + " - - [" + stamp + "] \"GET " + path + " HTTP/1.1\" " + std::to_string(status)
         + " 5120 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\" 0.012\n";
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(q * static_cast<double>(v.size()) + 0.999999);
  return v[std::max<size_t>(rank, 1) - 1];
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s VIGIL [--rate N] [--seconds S] [--markers-per-second M]\n", argv[0]);
    return 2;
  }
  const std::string vigil = argv[1];
  double rate = 100000, seconds = 20, markers_per_second = 10;
  std::string checkpoint_interval = "1s", log_level = "debug";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    double v = std::atof(argv[i + 1]);
    if (k == "--rate") rate = v;
    else if (k == "--seconds") seconds = v;
    else if (k == "--markers-per-second") markers_per_second = v;
    else if (k == "--checkpoint-interval") checkpoint_interval = argv[i + 1];
    else if (k == "--log-level") log_level = argv[i + 1];
  }
  char tmpl[] = "/tmp/vigil-latency-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string log = dir + "/access.log", alerts = dir + "/alerts.jsonl", cfg = dir + "/bench.toml";
  std::ofstream(log).close();
  std::ofstream(cfg) << "[node]\nname = \"bench\"\nstate_dir = \"" << dir << "/state\"\nhttp = \"\"\n"
                     << "checkpoint_interval = \"" << checkpoint_interval << "\"\n\n"
                     << "[[source]]\nname = \"access\"\ntype = \"file\"\npath = \"" << log
                     << "\"\nformat = \"combined_rt\"\nstart_at = \"end\"\n\n"
                     << "[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n"
                     << "group_by = [\"ip\"]\nallowed_lateness = \"5s\"\n\n"
                     << "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n\n"
                     << "[[rule]]\nname = \"probe\"\nwindow = \"ip_minute\"\nwhen = \"probes >= 1\"\n\n"
                     << "[[rule]]\nname = \"high_error_rate\"\nwindow = \"minute\"\n"
                     << "when = \"error_rate > 0.05 && requests >= 100\"\n\n"
                     << "[[sink]]\nname = \"alerts\"\ntype = \"jsonl\"\ninput = \"alerts\"\npath = \"" << alerts
                     << "\"\n";

  pid_t pid = 0;
  std::vector<std::string> args = {vigil, "run", "-c", cfg, "--log-level", log_level};
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/vigil.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (posix_spawn(&pid, vigil.c_str(), &fa, nullptr, argv_c.data(), environ) != 0) {
    std::perror("posix_spawn");
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // vigil up and tailing

  std::mutex mu;
  std::map<std::string, steady::time_point> sent;  // marker ip -> when its line was written
  std::vector<double> latencies_ms;
  // The slow ones, with the second of the minute (UTC) they were written
  // in: a tail at :00 is a minute window closing, one every second is a
  // checkpoint.
  std::vector<std::pair<double, int>> slow;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    int fd = -1;
    std::string buf;
    char chunk[65536];
    while (!done || fd >= 0) {
      if (fd < 0) fd = ::open(alerts.c_str(), O_RDONLY);
      ssize_t n = fd >= 0 ? ::read(fd, chunk, sizeof(chunk)) : 0;
      const auto now = steady::now();
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
          std::string l = buf.substr(0, nl);
          buf.erase(0, nl + 1);
          auto k = l.find("\"ip\":\"");
          if (k == std::string::npos || l.find("\"status\":\"firing\"") == std::string::npos) continue;
          std::string ip = l.substr(k + 6, l.find('"', k + 6) - k - 6);
          std::lock_guard<std::mutex> lock(mu);
          auto it = sent.find(ip);
          if (it != sent.end()) {
            const double ms = std::chrono::duration<double, std::milli>(now - it->second).count();
            latencies_ms.push_back(ms);
            if (ms > 20) slow.emplace_back(ms, second_of_minute(it->second));
            sent.erase(it);
          }
        }
        continue;
      }
      if (done) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (fd >= 0) ::close(fd);
  });

  const int out = ::open(log.c_str(), O_WRONLY | O_APPEND);
  const auto start = steady::now();
  uint64_t written = 0, markers = 0, bytes = 0;
  std::string stamp = clf_now();
  auto last_stamp = start;
  std::string batch;
  while (true) {
    const auto now = steady::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (elapsed >= seconds) break;
    if (now - last_stamp >= std::chrono::milliseconds(200)) {
      stamp = clf_now();
      last_stamp = now;
    }
    batch.clear();
    const auto due = static_cast<uint64_t>(elapsed * rate);
    for (; written < due; ++written) {
      const uint32_t c = static_cast<uint32_t>(written * 2654435761u % 50000) + 1;
      batch += line("10." + std::to_string(c >> 16 & 255) + "." + std::to_string(c >> 8 & 255) + "."
                      + std::to_string(c & 255),
                    stamp, "/products/view", 200);
    }
    bool marker = static_cast<uint64_t>(elapsed * markers_per_second) > markers;
    std::string marker_ip;
    if (marker) {
      ++markers;
      marker_ip = "172.16." + std::to_string(markers >> 8 & 255) + "." + std::to_string(markers & 255);
      batch += line(marker_ip, stamp, "/.env", 404);
    }
    if (!batch.empty()) {
      // Noted before the write, so the watcher can never see the alert
      // first; the latency then includes the write itself.
      if (marker) {
        std::lock_guard<std::mutex> lock(mu);
        sent[marker_ip] = steady::now();
      }
      if (::write(out, batch.data(), batch.size()) != static_cast<ssize_t>(batch.size())) std::perror("write");
      bytes += batch.size();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const double wrote_for = std::chrono::duration<double>(steady::now() - start).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // stragglers
  done = true;
  watcher.join();
  ::kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ::close(out);

  std::lock_guard<std::mutex> lock(mu);
  std::printf("background: %.0f lines/s (%.1f MB/s) for %.1f s; %llu markers, %zu alerted, %zu missed\n",
              static_cast<double>(written) / wrote_for, static_cast<double>(bytes) / wrote_for / 1e6, wrote_for,
              static_cast<unsigned long long>(markers), latencies_ms.size(), sent.size());
  std::printf("append -> alert latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", percentile(latencies_ms, 0.5),
              percentile(latencies_ms, 0.99),
              latencies_ms.empty() ? 0.0 : *std::max_element(latencies_ms.begin(), latencies_ms.end()));
  std::sort(slow.rbegin(), slow.rend());
  if (!slow.empty()) {
    std::printf("over 20 ms: %zu markers; the slowest (ms @ second of the minute):", slow.size());
    for (size_t i = 0; i < slow.size() && i < 8; ++i) std::printf(" %.0f@%02d", slow[i].first, slow[i].second);
    std::printf("\n");
  }
  std::printf("vigil exit status %d; work dir %s\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1, dir.c_str());
  std::filesystem::remove(log);
  return sent.empty() && !latencies_ms.empty() ? 0 : 1;
}
