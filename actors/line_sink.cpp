#include "actors/line_sink.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

struct sink_state {
  int fd = -1;
  bool owned = false;
  uint64_t failed_writes = 0;
  static inline const char* name = "line_sink";
  ~sink_state() {
    if (owned && fd >= 0) ::close(fd);
  }
};

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
  }
  return {
    [=](write_atom, const std::vector<std::string>& lines) -> uint64_t {
      auto& st = self->state;
      std::string buf;
      for (const auto& l : lines) {
        buf += l;
        buf += '\n';
      }
      size_t done = 0;
      while (st.fd >= 0 && done < buf.size()) {
        ssize_t n = ::write(st.fd, buf.data() + done, buf.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          if (st.failed_writes++ == 0)
            spdlog::error("sink {}: write to {} failed: {}", cfg.name, cfg.path, std::strerror(errno));
          break;
        }
        done += static_cast<size_t>(n);
      }
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

line_sink_actor spawn_line_sink(caf::actor_system& sys, const line_sink_config& cfg) {
  return sys.spawn(line_sink, cfg);
}

} // namespace vigil
