#include "actors/line_sink.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

std::atomic<bool> giving_up{false};
std::atomic<size_t> failing{0};  // sinks whose write is failing now

struct sink_state {
  int fd = -1;
  bool owned = false;
  uint64_t failed_writes = 0;  ///< failures, each retried until it succeeded
  std::chrono::steady_clock::time_point failing_since;  ///< of the failure being retried
  static inline const char* name = "line_sink";
  ~sink_state() {
    if (owned && fd >= 0) ::close(fd);
  }
};

/// Writes all of `buf`, retrying a failed write (a full disk, a file
/// system gone read-only) with backoff for as long as it fails: the lines
/// are never dropped. The reply, and with it the credit of the stage
/// that sent them, waits meanwhile, so the pipeline holds instead of
/// losing results; a checkpoint waits too (its barrier is behind these
/// lines in the mailbox), so no checkpoint counts lines not written. The
/// sink runs on a thread of its own, so the waiting holds no other actor.
void write_all(sink_state& st, const line_sink_config& cfg, const std::string& buf, size_t lines) {
  using namespace std::chrono;
  size_t done = 0;
  auto backoff = milliseconds(100);
  steady_clock::time_point last_report;
  while (done < buf.size()) {
    ssize_t n = ::write(st.fd, buf.data() + done, buf.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int err = n < 0 ? errno : EIO;
    if (cfg.path.empty()) {
      // The console is for people and keeps no checkpointed length: a
      // closed terminal or pipe is said once, not waited on.
      if (st.failed_writes++ == 0)
        spdlog::error("sink {}: write to standard output failed: {}; console lines are dropped", cfg.name,
                      std::strerror(err));
      return;
    }
    if (giving_up) {
      if (st.failing_since != steady_clock::time_point{}) --failing;
      st.failing_since = {};
      spdlog::error("sink {}: {} lines not written to {} ({}): the next start writes them again", cfg.name, lines,
                    cfg.path, std::strerror(err));
      return;
    }
    const auto now = steady_clock::now();
    if (st.failing_since == steady_clock::time_point{}) {
      ++failing;
      st.failing_since = last_report = now;
      ++st.failed_writes;
      spdlog::error("sink {}: write to {} failed: {}; {} lines held, retrying (the pipeline waits, nothing is "
                    "dropped)", cfg.name, cfg.path, std::strerror(err), lines);
    } else if (now - last_report >= seconds(30)) {
      last_report = now;
      spdlog::error("sink {}: write to {} still failing after {} s: {}; {} lines held", cfg.name, cfg.path,
                    duration_cast<seconds>(now - st.failing_since).count(), std::strerror(err), lines);
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
  if (st.failing_since != steady_clock::time_point{}) {
    --failing;
    spdlog::warn("sink {}: writing to {} again after {} ms", cfg.name, cfg.path,
                 duration_cast<milliseconds>(steady_clock::now() - st.failing_since).count());
    st.failing_since = {};
  }
}

line_sink_actor::behavior_type line_sink(line_sink_actor::stateful_pointer<sink_state> self,
                                         line_sink_config cfg) {
  auto& st = self->state;
  if (cfg.path.empty()) {
    st.fd = STDOUT_FILENO;
  } else {
    std::error_code ec;
    auto dir = std::filesystem::path(cfg.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    st.fd = ::open(cfg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    st.owned = true;
    if (st.fd < 0)
      spdlog::error("sink {}: cannot open {}: {}", cfg.name, cfg.path, std::strerror(errno));
    struct stat now {};
    if (st.fd >= 0 && cfg.truncate_to >= 0 && ::fstat(st.fd, &now) == 0) {
      if (now.st_size > cfg.truncate_to) {
        if (::ftruncate(st.fd, cfg.truncate_to) != 0)
          spdlog::error("sink {}: cannot cut {} back to {} bytes: {}", cfg.name, cfg.path, cfg.truncate_to,
                        std::strerror(errno));
        else
          spdlog::info("sink {}: {} cut back from {} to {} bytes (the checkpoint's length; the replay writes the rest)",
                       cfg.name, cfg.path, now.st_size, cfg.truncate_to);
      } else if (now.st_size < cfg.truncate_to) {
        spdlog::warn("sink {}: {} is {} bytes, shorter than the {} it had at the checkpoint: was it "
                     "rotated or edited? Writing on.", cfg.name, cfg.path, now.st_size, cfg.truncate_to);
      }
    }
    // A CSV file starts with its header, once: a file cut back to a
    // checkpoint after it has the header already.
    if (st.fd >= 0 && !cfg.header.empty() && ::fstat(st.fd, &now) == 0 && now.st_size == 0)
      write_all(st, cfg, cfg.header + "\n", 1);
  }
  return {
    [=](write_atom, const std::vector<std::string>& lines) -> uint64_t {
      auto& st = self->state;
      std::string buf;
      for (const auto& l : lines) {
        buf += l;
        buf += '\n';
      }
      if (st.fd < 0) {
        spdlog::error("sink {}: {} is not open: {} lines lost", cfg.name, cfg.path, lines.size());
        return lines.size();
      }
      write_all(st, cfg, buf, lines.size());
      return lines.size();
    },
    [=](checkpoint_atom, uint64_t id) {
      auto& st = self->state;
      if (!cfg.coordinator || !st.owned) return;  // stdout: nothing to cut back
      // Writes are unbuffered: the file's length is everything written.
      struct stat now {};
      const int64_t length = st.fd >= 0 && ::fstat(st.fd, &now) == 0 ? now.st_size : 0;
      self->send(cfg.coordinator, checkpoint_atom_v,
                 state_part{id, state_kind::sink, "sink:" + cfg.name, std::to_string(length)});
    },
    [=](flush_atom) -> bool {
      auto& st = self->state;
      return st.fd >= 0 && (!st.owned || ::fdatasync(st.fd) == 0);
    },
  };
}

} // namespace

void give_up_failing_writes(bool give_up) { giving_up = give_up; }

size_t failing_sinks() noexcept { return failing.load(); }

line_sink_actor spawn_line_sink(caf::actor_system& sys, const line_sink_config& cfg) {
  if (cfg.path.empty()) return sys.spawn(line_sink, cfg);  // stdout: nothing to wait on
  return sys.spawn<caf::detached>(line_sink, cfg);
}

} // namespace vigil
