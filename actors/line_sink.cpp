#include "actors/line_sink.hpp"

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <deque>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "parse/timestamp.hpp"

namespace vigil {

namespace {

std::atomic<bool> giving_up{false};
std::atomic<size_t> failing{0};  // sinks whose write is failing now

struct sink_state {
  int fd = -1;
  bool owned = false;
  int64_t length = 0;          ///< of the file being written (writes are unbuffered)
  uint64_t segments = 0;       ///< closed by rotation
  int64_t next_rotation_ms = 0;  ///< rotate_every: the wall-clock time of the next rotation
  uint64_t failed_writes = 0;  ///< failures, each retried until it succeeded
  uint64_t over_limit = 0;     ///< lines not written: the file was at max_bytes
  std::string sink_name;       ///< for the last word on them
  std::chrono::steady_clock::time_point failing_since;  ///< of the failure being retried
  /// Barrier alignment (barrier_inputs > 1): the senders past the barrier
  /// being aligned, and what came from them since, in arrival order.
  struct held_item {
    caf::actor_addr from;
    bool barrier = false;
    uint64_t id = 0;
    std::vector<std::string> lines;
    caf::typed_response_promise<uint64_t> reply;
  };
  std::vector<caf::actor_addr> arrived;
  std::deque<held_item> held;
  static inline const char* name = "line_sink";
  ~sink_state() {
    if (owned && fd >= 0) ::close(fd);
    if (over_limit > 0) spdlog::warn("sink {}: {} lines not written over its max_bytes", sink_name, over_limit);
  }
};

/// What a sink writes at a time of a message's lines: a window of a million
/// groups closes in one message, and its lines are not copied whole once
/// more before they are written.
constexpr size_t write_chunk_bytes = size_t{1} << 20;

/// The next multiple of `every` after now: "1h" rotates on the hour.
int64_t next_rotation(std::chrono::milliseconds every) {
  const int64_t e = every.count();
  return e > 0 ? (wall_clock_ms() / e + 1) * e : 0;
}

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
      st.length += n;
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

/// Puts the file back where the checkpoint being resumed left it:
/// segments rotated after it are renamed back (the newest removed: the
/// replay writes them again), so the checkpoint's file is the one written.
void undo_rotations(const line_sink_config& cfg) {
  const uint64_t kept = cfg.resume.segments;
  const uint64_t on_disk = last_segment_on_disk(cfg.path);
  if (on_disk <= kept) {
    if (on_disk < kept)
      spdlog::warn("sink {}: {} has {} segments on disk, fewer than the {} it had closed at the checkpoint: were "
                   "they moved away? Writing on.", cfg.name, cfg.path, on_disk, kept);
    return;
  }
  std::error_code ec;
  for (uint64_t k = on_disk; k > kept + 1; --k) std::filesystem::remove(segment_path(cfg.path, k), ec);
  std::filesystem::remove(cfg.path, ec);
  std::filesystem::rename(segment_path(cfg.path, kept + 1), cfg.path, ec);
  if (ec)
    spdlog::error("sink {}: cannot rename {} back to {}: {}", cfg.name, segment_path(cfg.path, kept + 1), cfg.path,
                  ec.message());
  else
    spdlog::info("sink {}: segments {}..{} of {} were rotated after the checkpoint: put back (the replay writes "
                 "them again)", cfg.name, kept + 1, on_disk, cfg.path);
}

/// Opens the file for appending and writes the header into an empty one.
void open_file(sink_state& st, const line_sink_config& cfg) {
  st.fd = ::open(cfg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  st.owned = true;
  st.length = 0;
  if (st.fd < 0) {
    spdlog::error("sink {}: cannot open {}: {}", cfg.name, cfg.path, std::strerror(errno));
    return;
  }
  struct stat now {};
  if (::fstat(st.fd, &now) == 0) st.length = now.st_size;
  // A CSV file starts with its header, once: a file cut back to a
  // checkpoint after it has the header already.
  if (st.length == 0 && !cfg.header.empty()) write_all(st, cfg, cfg.header + "\n", 1);
}

/// Closes the file and renames it to its next segment; a new file takes
/// its place. A rename that fails leaves the file as it is (logged).
void rotate(sink_state& st, const line_sink_config& cfg) {
  const std::string to = segment_path(cfg.path, st.segments + 1);
  if (st.fd >= 0) {
    (void)::fdatasync(st.fd);
    ::close(st.fd);
    st.fd = -1;
  }
  if (std::rename(cfg.path.c_str(), to.c_str()) != 0)
    spdlog::error("sink {}: cannot rotate {} to {}: {}; writing on to {}", cfg.name, cfg.path, to,
                  std::strerror(errno), cfg.path);
  else
    ++st.segments;
  open_file(st, cfg);
  st.next_rotation_ms = next_rotation(cfg.rotate_every);
}

/// The file holds more than its header.
bool has_lines(const sink_state& st, const line_sink_config& cfg) {
  return st.length > static_cast<int64_t>(cfg.header.empty() ? 0 : cfg.header.size() + 1);
}

/// A sender whose barrier is in while another input's is awaited: what it
/// sends now belongs after the checkpoint.
bool past_barrier(const sink_state& st, const caf::actor_addr& from) {
  return std::find(st.arrived.begin(), st.arrived.end(), from) != st.arrived.end();
}

line_sink_actor::behavior_type line_sink(line_sink_actor::stateful_pointer<sink_state> self,
                                         line_sink_config cfg) {
  auto& st = self->state;
  st.sink_name = cfg.name;
  if (cfg.path.empty()) {
    st.fd = STDOUT_FILENO;
  } else {
    std::error_code ec;
    auto dir = std::filesystem::path(cfg.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (cfg.resume.length >= 0) {
      undo_rotations(cfg);
      st.segments = cfg.resume.segments;
    } else {
      st.segments = last_segment_on_disk(cfg.path);
    }
    const int64_t cut = cfg.resume.length;
    struct stat now {};
    if (cut >= 0 && ::stat(cfg.path.c_str(), &now) == 0) {
      if (now.st_size > cut) {
        if (::truncate(cfg.path.c_str(), cut) != 0)
          spdlog::error("sink {}: cannot cut {} back to {} bytes: {}", cfg.name, cfg.path, cut, std::strerror(errno));
        else
          spdlog::info("sink {}: {} cut back from {} to {} bytes (the checkpoint's length; the replay writes the rest)",
                       cfg.name, cfg.path, now.st_size, cut);
      } else if (now.st_size < cut) {
        spdlog::warn("sink {}: {} is {} bytes, shorter than the {} it had at the checkpoint: was it "
                     "rotated or edited? Writing on.", cfg.name, cfg.path, now.st_size, cut);
      }
    }
    open_file(st, cfg);
    st.next_rotation_ms = next_rotation(cfg.rotate_every);
  }
  auto write_lines = [=](const std::vector<std::string>& lines) -> uint64_t {
    auto& st = self->state;
    stage_timer timer(cfg.stage.get(), self);
    if (cfg.stage) cfg.stage->items_in += lines.size();
    if (st.owned && st.fd < 0) open_file(st, cfg);  // one that failed to open: try again
    if (st.fd < 0) {
      spdlog::error("sink {}: {} is not open: {} lines lost", cfg.name, cfg.path, lines.size());
      return lines.size();
    }
    if (st.owned && cfg.rotate_every.count() > 0 && wall_clock_ms() >= st.next_rotation_ms) {
      if (has_lines(st, cfg)) rotate(st, cfg);
      else st.next_rotation_ms = next_rotation(cfg.rotate_every);
    }
    std::string buf;
    size_t in_buf = 0;
    for (const auto& l : lines) {
      // By size: the line that would pass the limit starts the next segment.
      if (st.owned && cfg.rotate_bytes > 0 && (has_lines(st, cfg) || in_buf > 0)
          && st.length + static_cast<int64_t>(buf.size() + l.size() + 1) > static_cast<int64_t>(cfg.rotate_bytes)) {
        write_all(st, cfg, buf, in_buf);
        buf.clear();
        in_buf = 0;
        rotate(st, cfg);
      }
      // A bound on the file: what would pass it is counted, not written.
      // It depends on the file's length only, so a replay after a crash
      // drops the same lines.
      if (st.owned && cfg.max_bytes > 0
          && st.length + static_cast<int64_t>(buf.size() + l.size() + 1) > static_cast<int64_t>(cfg.max_bytes)) {
        if (st.over_limit++ == 0)
          spdlog::warn("sink {}: {} reached its max_bytes ({} bytes): further lines are counted, not written",
                       cfg.name, cfg.path, cfg.max_bytes);
        if (cfg.stage) ++cfg.stage->items_dropped;
        continue;
      }
      buf += l;
      buf += '\n';
      ++in_buf;
      if (buf.size() >= write_chunk_bytes) {
        write_all(st, cfg, buf, in_buf);
        buf.clear();
        in_buf = 0;
      }
    }
    write_all(st, cfg, buf, in_buf);
    return lines.size();
};
  // A barrier from `from`: true once every input's is in and the position
  // went to the coordinator.
  auto take_barrier = [=](const caf::actor_addr& from, uint64_t id) {
    auto& st = self->state;
    st.arrived.push_back(from);
    if (st.arrived.size() < cfg.barrier_inputs) return false;
    st.arrived.clear();
    self->send(cfg.coordinator, checkpoint_atom_v,
               state_part{id, state_kind::sink, "sink:" + cfg.name,
                          encode_sink_position({st.fd >= 0 ? st.length : 0, st.segments})});
    return true;
  };
  return {
    [=](write_atom, std::vector<std::string>& lines) -> caf::result<uint64_t> {
      auto& st = self->state;
      const auto from = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (past_barrier(st, from)) {
        // After its barrier, before the others': written once they are in.
        auto reply = self->make_response_promise<uint64_t>();
        st.held.push_back({from, false, 0, std::move(lines), reply});
        return reply;
      }
      return write_lines(lines);
    },
    [=](checkpoint_atom, uint64_t id) {
      auto& st = self->state;
      if (!cfg.coordinator || !st.owned) return;  // stdout: nothing to cut back
      const auto from = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (past_barrier(st, from)) {
        st.held.push_back({from, true, id, {}, {}});
        return;
      }
      if (!take_barrier(from, id)) return;
      // Aligned: what was held goes through again, in the order it came; a
      // held barrier may start (and end) the next alignment.
      std::deque<sink_state::held_item> pending = std::move(st.held);
      st.held.clear();
      while (!pending.empty()) {
        auto h = std::move(pending.front());
        pending.pop_front();
        if (past_barrier(st, h.from)) {
          st.held.push_back(std::move(h));
        } else if (!h.barrier) {
          h.reply.deliver(write_lines(h.lines));
        } else if (take_barrier(h.from, h.id)) {
          for (auto it = st.held.rbegin(); it != st.held.rend(); ++it) pending.push_front(std::move(*it));
          st.held.clear();
        }
      }
    },
    [=](flush_atom) -> bool {
      auto& st = self->state;
      return st.fd >= 0 && (!st.owned || ::fdatasync(st.fd) == 0);
    },
  };
}

} // namespace

std::string encode_sink_position(const sink_position& p) {
  return p.segments == 0 ? std::to_string(p.length) : std::to_string(p.length) + " " + std::to_string(p.segments);
}

sink_position decode_sink_position(const std::string& text) {
  sink_position p;
  size_t used = 0;
  p.length = std::stoll(text, &used);
  if (used < text.size()) p.segments = std::stoull(text.substr(used + 1));
  return p;
}

std::string segment_path(const std::string& path, uint64_t k) {
  const std::filesystem::path p(path);
  char number[24];
  std::snprintf(number, sizeof number, ".%06llu", static_cast<unsigned long long>(k));
  return (p.parent_path() / (p.stem().string() + number + p.extension().string())).string();
}

uint64_t last_segment_on_disk(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string stem = p.stem().string() + ".", ext = p.extension().string();
  const auto dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  uint64_t last = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= stem.size() + ext.size() || name.compare(0, stem.size(), stem) != 0 ||
        name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
      continue;
    const std::string digits = name.substr(stem.size(), name.size() - stem.size() - ext.size());
    if (digits.size() < 6 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    last = std::max<uint64_t>(last, std::stoull(digits));
  }
  return last;
}

void give_up_failing_writes(bool give_up) { giving_up = give_up; }

size_t failing_sinks() noexcept { return failing.load(); }

bool giving_up_writes() noexcept { return giving_up.load(); }

void sink_write_failing(bool now_failing) noexcept {
  if (now_failing) ++failing;
  else --failing;
}

line_sink_actor spawn_line_sink(caf::actor_system& sys, const line_sink_config& cfg) {
  if (cfg.path.empty()) return sys.spawn(line_sink, cfg);  // stdout: nothing to wait on
  return sys.spawn<caf::detached>(line_sink, cfg);
}

} // namespace vigil
