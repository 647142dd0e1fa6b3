#include "actors/db_sink.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "db/row_text.hpp"
#include "parse/timestamp.hpp"

namespace vigil {

namespace {

/// The sink's interface, with its own flush timer.
using db_sink_actor = line_sink_actor::extend<caf::reacts_to<tick_atom>>;

struct db_sink_state {
  std::unique_ptr<db_writer> writer;
  bool started = false;
  int64_t position = 0;   ///< rows of the stream seen (the next row's position)
  int64_t held = 0;       ///< rows the database holds (its progress): pending rows follow them
  uint64_t barrier = 0;   ///< the last checkpoint barrier passed
  std::vector<std::string> pending;  ///< rows from position `held` on, not yet committed
  bool tick_due = false;
  std::vector<std::string> copies;  ///< quarantine records of refused rows, to send
  bool copied = false;              ///< copies went out since the last flush request
  std::vector<db_reject> refused;   ///< of the rows the replay skips, the refused ones (in order)
  size_t next_refused = 0;
  std::shared_ptr<db_sink_stats> stats;
  static inline const char* name = "db_sink";
};

/// Runs `attempt` until it succeeds, backing off from 100 ms to 5 s; logs
/// the first failure, every 30 s after it, and the recovery. Gives up
/// (false) only when the node stops without a checkpoint.
template <class F>
bool until_done(db_sink_state& st, const db_sink_config& cfg, const char* what, F attempt) {
  using namespace std::chrono;
  auto backoff = milliseconds(100);
  steady_clock::time_point since, reported;
  std::string error;
  while (!attempt(error)) {
    const auto now = steady_clock::now();
    ++st.stats->failed_attempts;
    if (since == steady_clock::time_point{}) {
      since = reported = now;
      st.stats->failing_since_ms = wall_clock_ms();
      sink_write_failing(true);
      spdlog::error("sink {}: {} {} failed: {}; {} rows held, retrying (the pipeline waits, nothing is dropped)",
                    cfg.name, what, st.writer->describe(), error, st.pending.size());
    } else if (now - reported >= seconds(30)) {
      reported = now;
      spdlog::error("sink {}: {} {} still failing after {} s: {}; {} rows held", cfg.name, what,
                    st.writer->describe(), duration_cast<seconds>(now - since).count(), error, st.pending.size());
    }
    if (giving_up_writes()) {
      sink_write_failing(false);
      st.stats->failing_since_ms = 0;
      spdlog::error("sink {}: {} rows not written to {}: the next start writes them again", cfg.name,
                    st.pending.size(), st.writer->describe());
      return false;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
  if (since != std::chrono::steady_clock::time_point{}) {
    sink_write_failing(false);
    st.stats->failing_since_ms = 0;
    spdlog::warn("sink {}: {} {} again after {} ms", cfg.name, what, st.writer->describe(),
                 duration_cast<milliseconds>(steady_clock::now() - since).count());
  }
  return true;
}

/// Connects and reads the progress: rows of the replay before it are in
/// the database already.
void start(db_sink_state& st, const db_sink_config& cfg) {
  st.started = true;
  st.position = std::max<int64_t>(cfg.resume, 0);
  db_progress p;
  until_done(st, cfg, "connecting to", [&](std::string& error) {
    return st.writer->connect(error) && st.writer->read_progress(p, error);
  });
  st.held = p.rows;
  // The quarantine was cut back to the checkpoint: the copies of rows
  // refused after it go again as the replay passes them.
  if (p.rows > st.position && cfg.quarantine)
    until_done(st, cfg, "reading the refused rows from", [&](std::string& error) {
      st.refused.clear();
      return st.writer->read_rejects(st.position, p.rows, st.refused, error);
    });
  if (p.rows > st.position)
    spdlog::info("sink {}: {} holds {} rows of this stream, the checkpoint {}: the replay skips the {} it holds",
                 cfg.name, st.writer->describe(), p.rows, st.position, p.rows - st.position);
  else if (p.rows < st.position) {
    spdlog::warn("sink {}: {} holds {} rows of this stream, fewer than the {} of the checkpoint: were rows "
                 "deleted? Writing on.", cfg.name, st.writer->describe(), p.rows, st.position);
    st.held = st.position;
  }
}

/// A refused row as the quarantine has it: {source, offset, reason, field,
/// value, text}, the database's message as the value.
std::string quarantine_record(const db_sink_config& cfg, const db_reject& x) {
  nlohmann::ordered_json j = {{"source", "sink:" + cfg.name}, {"offset", x.position}, {"reason", "db_rejected"},
                              {"field", ""}, {"value", x.error}, {"text", x.row}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The crash torture's fault hook: VIGIL_FAULT_KILL_AFTER_COMMIT=N kills
/// the process right after its N-th database commit, before the
/// checkpoint that would count those rows: the instant at which the
/// database is ahead of the state store.
void kill_after_commit_for_tests(const db_sink_config& cfg) {
  static const long after = [] {
    const char* v = std::getenv("VIGIL_FAULT_KILL_AFTER_COMMIT");
    return v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  static std::atomic<long> commits{0};
  if (after <= 0 || ++commits != after) return;
  std::fprintf(stderr, "fault injection: SIGKILL after database commit %ld (sink %s)\n", after, cfg.name.c_str());
  std::fflush(stderr);
  ::raise(SIGKILL);
}

/// Commits the pending rows (one transaction), retrying until it can.
void flush(db_sink_state& st, const db_sink_config& cfg) {
  if (st.pending.empty()) return;
  bool retry = false;
  const bool done = until_done(st, cfg, "writing to", [&](std::string& error) {
    // A failure may have come after the commit: the progress says.
    if (retry) {
      db_progress p;
      if (!st.writer->read_progress(p, error)) return false;
      if (p.rows >= st.position) return true;
    }
    retry = true;
    auto r = st.writer->write(st.pending, st.held, st.position, st.barrier);
    if (!r.committed) {
      error = r.error;
      return false;
    }
    st.stats->rows_rejected += r.rejects.size();
    st.stats->rows_written += st.pending.size() - r.rejects.size();
    for (const auto& x : r.rejects) {
      spdlog::warn("sink {}: row {} refused by {}: {}", cfg.name, x.position, st.writer->describe(), x.error);
      if (!cfg.quarantine) continue;
      st.copies.push_back(quarantine_record(cfg, x));
    }
    return true;
  });
  if (!done) return;  // the node stops without a checkpoint: its next start writes these rows
  ++st.stats->transactions;
  kill_after_commit_for_tests(cfg);
  st.held = st.position;
  st.pending.clear();
  st.stats->pending = 0;
}

/// The refused rows' quarantine records, to the quarantine sink.
void send_copies(db_sink_actor::stateful_pointer<db_sink_state> self, const db_sink_config& cfg) {
  auto& st = self->state;
  if (st.copies.empty() || !cfg.quarantine) return;
  self->request(cfg.quarantine, caf::infinite, write_atom_v, std::move(st.copies)).then([](uint64_t) {}, [](caf::error&) {});
  st.copies.clear();
  st.copied = true;
}

db_sink_actor::behavior_type db_sink(db_sink_actor::stateful_pointer<db_sink_state> self, db_sink_config cfg) {
  auto& st = self->state;
  st.writer = cfg.make_writer();
  st.stats = cfg.stats ? cfg.stats : std::make_shared<db_sink_stats>();
  return {
    [=](write_atom, const std::vector<std::string>& lines) -> uint64_t {
      auto& st = self->state;
      stage_timer timer(cfg.stage.get(), self);
      if (cfg.stage) cfg.stage->items_in += lines.size();
      if (!st.started) start(st, cfg);
      for (const auto& line : lines) {
        if (st.position < st.held) {  // the database has it from before the crash
          if (st.next_refused < st.refused.size() && st.refused[st.next_refused].position == st.position)
            st.copies.push_back(quarantine_record(cfg, st.refused[st.next_refused++]));
          ++st.position;
          ++st.stats->rows_skipped;
          continue;
        }
        ++st.position;
        if (cfg.window_results) {
          std::string row, error;
          if (window_row_text(cfg.spec, line, row, error)) st.pending.push_back(std::move(row));
          else spdlog::error("sink {}: {}: {}", cfg.name, error, line.substr(0, 200));  // not from a window stage
        } else {
          st.pending.push_back(line);
        }
        if (st.pending.size() >= cfg.batch_rows) flush(st, cfg);
      }
      send_copies(self, cfg);
      st.stats->pending = st.pending.size();
      if (!st.pending.empty() && !st.tick_due) {
        st.tick_due = true;
        self->delayed_send(self, cfg.flush_interval, tick_atom_v);
      }
      return lines.size();
    },
    [=](tick_atom) {
      auto& st = self->state;
      st.tick_due = false;
      stage_timer timer(cfg.stage.get(), self);
      flush(st, cfg);
      send_copies(self, cfg);
    },
    [=](checkpoint_atom, uint64_t id) {
      auto& st = self->state;
      if (!st.started) start(st, cfg);
      st.barrier = id;
      stage_timer timer(cfg.stage.get(), self);
      // The rows before the barrier are committed before the checkpoint
      // counts them: the database never holds fewer than it says.
      flush(st, cfg);
      send_copies(self, cfg);
      // The quarantine takes its position once every database sink's copies
      // of rows before the barrier are in (line_sink_config::barrier_inputs).
      if (cfg.quarantine) self->send(cfg.quarantine, checkpoint_atom_v, id);
      if (cfg.coordinator)
        self->send(cfg.coordinator, checkpoint_atom_v,
                   state_part{id, state_kind::sink, "sink:" + cfg.name, encode_sink_position({st.position, 0})});
    },
    [=](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.started) start(st, cfg);
      flush(st, cfg);
      send_copies(self, cfg);
      if (!st.copied) return st.pending.empty();
      // Done once the copies sent before are written too.
      st.copied = false;
      auto rp = self->make_response_promise<bool>();
      self->request(cfg.quarantine, caf::infinite, flush_atom_v)
        .then([rp](bool ok) mutable { rp.deliver(ok); }, [rp](caf::error&) mutable { rp.deliver(false); });
      return rp;
    },
  };
}

} // namespace

line_sink_actor spawn_db_sink(caf::actor_system& sys, db_sink_config cfg) {
  return caf::actor_cast<line_sink_actor>(sys.spawn<caf::detached>(db_sink, std::move(cfg)));
}

} // namespace vigil
