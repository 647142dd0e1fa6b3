// Window end -> result written, for a running `vigil run`: polls a window
// result JSONL sink every millisecond and, for each new line, takes the
// wall clock minus the window's end minus the allowed lateness (the
// earliest instant the window may close). Event time must follow the wall
// clock (`vigil gen ... --start now`, paced).
//
//   build/bench/window_latency RESULTS.jsonl LATENESS_MS SECONDS
//
// Prints the count and p50/p99/max in milliseconds.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "2026-12-02T10:00:10Z" (the window ends vigil writes) to epoch ms.
int64_t parse_end(const std::string& line) {
  const auto at = line.find("\"end\":\"");
  if (at == std::string::npos) return -1;
  std::tm tm{};
  if (!strptime(line.c_str() + at + 7, "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s RESULTS.jsonl LATENESS_MS SECONDS\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const int64_t lateness = std::stoll(argv[2]);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(std::stoll(argv[3]));
  std::vector<int64_t> latencies;
  std::streamoff read = 0;
  std::string partial;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      in.seekg(read);
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const int64_t seen = now_ms();
      read += static_cast<std::streamoff>(chunk.size());
      partial += chunk;
      for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1)) {
        const int64_t end = parse_end(partial.substr(0, nl));
        if (end > 0) latencies.push_back(seen - end - lateness);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (latencies.empty()) {
    std::printf("window_latency: no results in %s\n", path.c_str());
    return 1;
  }
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) { return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))]; };
  std::printf("window_latency: %zu results, window end + lateness -> written: p50 %lld ms, p99 %lld ms, max %lld ms\n",
              latencies.size(), static_cast<long long>(at(0.50)), static_cast<long long>(at(0.99)),
              static_cast<long long>(latencies.back()));
  return 0;
}
