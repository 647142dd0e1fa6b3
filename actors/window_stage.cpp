#include "actors/window_stage.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "flow/credit_gate.hpp"
#include "flow/sequence_order.hpp"
#include "parse/timestamp.hpp"
#include "record/record_format.hpp"
#include "state/state_codec.hpp"
#include "window/window_engine.hpp"
#include "window/event_view.hpp"
#include "window/window_partials.hpp"

namespace vigil {

namespace {

/// A batch from a source whose barrier already came, held until the
/// barriers of the other sources arrive (Chandy-Lamport alignment).
struct held_batch {
  event_batch batch;
  caf::typed_response_promise<uint64_t> reply;
};

struct stage_state {
  std::vector<window_engine> engines;
  std::vector<detector_bank> detectors;     // per engine
  std::string saved_detectors;              // the detectors as the checkpoint being written holds them
  // By source: batches that arrived ahead of their turn (a source's chunks
  // are parsed by several workers) wait for the ones before them.
  std::map<std::string, sequence_order<held_batch>> order;
  uint64_t aligning = 0;                    // checkpoint whose barriers are arriving
  std::set<std::string> barrier_from;       // sources whose barrier came
  std::deque<held_batch> held;
  uint64_t saving = 0;                      // checkpoint whose state is being written
  std::chrono::steady_clock::time_point save_started;
  size_t save_slices = 0;
  // A part sent in pieces: the engines before this one are sent whole,
  // and the part's header goes in front of the first piece (or of the
  // whole part, when it goes in one).
  size_t stream_next = 0;
  std::string part_header;
  uint64_t streamed_bytes = 0;              // in the pieces that went (none: not sent in pieces)
  bool seen_events = false;
  std::vector<std::vector<window_result>> closed;  // per engine, reused per batch
  std::vector<bool> merged;                 // per engine: the batch brought partials
  std::map<std::string, size_t> input_of;  // source -> engine input
  std::vector<std::chrono::steady_clock::time_point> last_events;  // per input
  // Per engine: overflow events when last said, and when (said at most once a minute).
  std::vector<uint64_t> overflow_said;
  std::vector<std::chrono::steady_clock::time_point> overflow_said_at;
  std::vector<bool> idle;                   // per input
  std::unique_ptr<credit_gate> gate;
  bool close_scheduled = false;             // a close_atom to self is on its way
  std::vector<size_t> closing;              // per engine: groups of the close in progress (0: none)
  static inline const char* name = "window_stage";
};

// Groups written per turn while a checkpoint is being written: about a
// millisecond of work, so events wait that long at most behind it.
constexpr size_t groups_per_save_slice = 1000;
// Groups closed per turn while a window with many closes: about as much
// work as a save slice (a snapshot, a result and its JSON line each). The
// crash torture's hook, VIGIL_CLOSE_SLICE_GROUPS=N, makes closes long
// enough for checkpoints to be taken in the middle of them.
size_t groups_per_close_slice() {
  static const size_t n = [] {
    const char* v = std::getenv("VIGIL_CLOSE_SLICE_GROUPS");
    const long long parsed = v ? std::atoll(v) : 0;
    return parsed > 0 ? static_cast<size_t>(parsed) : size_t{1000};
  }();
  return n;
}

/// Windows close in slices unless their detectors judge them: a detector
/// sums a series over the groups of a whole instance, and its scores go
/// into the results and deltas of that close.
bool closes_in_slices(const window_stage_config& cfg, const window_config& w) {
  if (w.type == window_type::session) return false;
  return std::none_of(cfg.detectors.begin(), cfg.detectors.end(),
                      [&](const detector_config& d) { return d.window == w.name; });
}

std::vector<window_engine> fresh_engines(const window_stage_config& cfg) {
  std::vector<window_engine> engines;
  for (size_t i = 0; i < cfg.windows.size(); ++i) {
    engines.emplace_back(cfg.windows[i], cfg.label_names, cfg.records.get());
    engines.back().set_inputs(cfg.sources.size());
    engines.back().set_partition(cfg.part);
    if (i < cfg.watched.size()) engines.back().watch(cfg.watched[i]);
    engines.back().set_sliced_closes(closes_in_slices(cfg, cfg.windows[i]));
  }
  return engines;
}

/// What the dashboard shows of `closed` (results of one window): each
/// instance's metrics, or for a keyed window the top groups of the newest.
void show_closed(window_tally& tally, const std::vector<window_result>& closed) {
  if (tally.names.empty() || closed.empty()) return;
  auto value = [](const window_result& r, const std::string& name) {
    for (const auto& [n, score] : r.anomaly)
      if (n == name) return score;
    return r.metrics.value(name).value_or(std::numeric_limits<double>::quiet_NaN());
  };
  if (!tally.keyed) {
    std::vector<const window_result*> by_start;
    for (const auto& r : closed) by_start.push_back(&r);
    std::sort(by_start.begin(), by_start.end(), [](auto* a, auto* b) { return a->start_ms < b->start_ms; });
    for (const window_result* r : by_start) {
      window_tally::closed_view v;
      v.start_ms = r->start_ms;
      for (const auto& n : tally.names) v.metrics.push_back(value(*r, n));
      tally.add_closed(std::move(v));
    }
    return;
  }
  window_tally::closed_view v;
  v.start_ms = INT64_MIN;
  for (const auto& r : closed) v.start_ms = std::max(v.start_ms, r.start_ms);
  v.tops.resize(tally.names.size());
  auto key_of = [](const window_result& r) {
    std::string key;
    for (const auto& [field, text] : r.group) key += (key.empty() ? "" : " ") + field + "=" + text;
    return key;
  };
  for (size_t m = 0; m < tally.names.size(); ++m) {
    auto& top = v.tops[m];
    for (const auto& r : closed) {
      const double x = value(r, tally.names[m]);
      if (r.start_ms != v.start_ms || std::isnan(x)) continue;
      if (top.size() == window_tally::top_groups && x <= top.back().second) continue;
      top.emplace_back(key_of(r), x);
      std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      if (top.size() > window_tally::top_groups) top.pop_back();
    }
  }
  tally.add_closed(std::move(v));
}


/// A window whose keys outgrew max_groups is said (at most once a minute
/// per window): its groups are then networks and "(overflow)", which an
/// operator should know before reading its results or its alerts.
void warn_overflow(stage_state& st) {
  st.overflow_said.resize(st.engines.size(), 0);
  st.overflow_said_at.resize(st.engines.size());
  const auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < st.engines.size(); ++i) {
    const auto& e = st.engines[i];
    const uint64_t n = e.groups_dropped();
    if (n == st.overflow_said[i] || (st.overflow_said[i] != 0 && now - st.overflow_said_at[i] < std::chrono::minutes(1)))
      continue;
    spdlog::warn("window {}: more keys than max_groups or max_state_bytes allow ({}): {} events counted in overflow groups so far (a key's "
                 "network, /24 or /64, then one \"(overflow)\" group), which rules and sinks see; raise max_groups "
                 "or group by less",
                 e.config().name, e.group_cap(), n);
    st.overflow_said[i] = n;
    st.overflow_said_at[i] = now;
  }
}
} // namespace

std::vector<detector_bank> fresh_detector_banks(const window_stage_config& cfg) {
  std::vector<detector_bank> banks;
  for (size_t i = 0; i < cfg.windows.size(); ++i)
    banks.emplace_back(cfg.windows[i], cfg.detectors, i < cfg.watched.size() ? cfg.watched[i] : std::vector<std::string>{});
  return banks;
}

std::vector<window_engine> restore_window_engines(const window_stage_config& cfg, std::string_view state,
                                                  std::vector<detector_bank>* detectors) {
  auto engines = fresh_engines(cfg);
  state_reader r(state);
  if (r.count() != engines.size()) throw state_decode_error("window state holds another number of windows");
  for (auto& e : engines) e.restore(r);
  // The detectors follow the windows (none in a checkpoint from before them).
  std::vector<detector_bank> banks = fresh_detector_banks(cfg);
  if (!r.done()) {
    if (r.count() != banks.size()) throw state_decode_error("detector state holds another number of windows");
    for (auto& b : banks) b.restore(r);
  }
  if (!r.done()) throw state_decode_error("window state has bytes after its last window's detectors");
  if (detectors) *detectors = std::move(banks);
  return engines;
}

window_stage_actor spawn_window_stage(caf::actor_system& sys, const window_stage_config& cfg) {
  auto behavior = [cfg](window_stage_actor::stateful_pointer<stage_state> self)
    -> window_stage_actor::behavior_type {
    auto& st = self->state;
    st.gate = std::make_unique<credit_gate>(cfg.max_in_flight);
    if (cfg.restored) {
      st.engines = std::move(*cfg.restored);
    } else {
      st.engines = fresh_engines(cfg);
    }
    st.detectors = cfg.restored_detectors ? std::move(*cfg.restored_detectors) : fresh_detector_banks(cfg);
    st.closed.resize(st.engines.size());
    for (size_t i = 0; i < cfg.sources.size(); ++i) st.input_of[cfg.sources[i]] = i;
    st.last_events.assign(std::max<size_t>(cfg.sources.size(), 1), std::chrono::steady_clock::now());
    st.idle.assign(st.last_events.size(), false);

    // A request whose reply returns credit.
    auto hand_on = [self](auto& dest, auto&&... xs) {
      self->state.gate->acquire();
      self->request(dest, caf::infinite, std::forward<decltype(xs)>(xs)...)
        .then([self](uint64_t) { self->state.gate->release(); },
              [self](caf::error& err) {
                spdlog::error("window stage: {}", self->system().render(err));
                self->state.gate->release();
              });
    };
    // Closed results go to the sinks of their window.
    auto publish = [self, cfg, hand_on]() mutable {
      auto& st = self->state;
      for (size_t engine = 0; engine < st.closed.size(); ++engine) {
        auto& closed = st.closed[engine];
        if (closed.empty()) continue;
        const std::string& name = cfg.windows[engine].name;
        if (!st.engines[engine].sliced_closes())  // a close in slices is said as it begins and ends
          spdlog::debug("window stage: window {} closed {} groups", name, closed.size());
        if (engine < cfg.tallies.size()) show_closed(*cfg.tallies[engine], closed);
        std::vector<const line_sink_actor*> sinks;
        for (const auto& [window, sink] : cfg.window_sinks)
          if (window == name) sinks.push_back(&sink);
        std::vector<std::string> lines;
        if (!sinks.empty()) {
          lines.reserve(closed.size());
          for (const auto& r : closed) lines.push_back(to_json(r));
        }
        // A window of many groups closed at once: its results go before its
        // lines are sent, and the last sink takes the lines, not a copy.
        closed.clear();
        if (closed.capacity() > 4096) std::vector<window_result>().swap(closed);
        for (size_t i = 0; i < sinks.size(); ++i) {
          if (i + 1 < sinks.size()) hand_on(*sinks[i], write_atom_v, lines);
          else hand_on(*sinks[i], write_atom_v, std::move(lines));
        }
      }
    };
    auto send_deltas = [self, cfg, hand_on]() mutable {
      auto& st = self->state;
      std::vector<window_delta> deltas, engine_deltas;
      for (size_t i = 0; i < st.engines.size(); ++i) {
        st.engines[i].take_deltas(engine_deltas);
        // The detectors judge the closes first: their scores go with them.
        if (i < st.detectors.size() && !st.detectors[i].empty()) {
          st.detectors[i].judge(st.closed[i], engine_deltas);
          if (i < cfg.tallies.size()) {
            cfg.tallies[i]->detector_series = st.detectors[i].series();
            cfg.tallies[i]->detector_series_dropped = st.detectors[i].series_dropped();
          }
        }
        for (auto& d : engine_deltas) deltas.push_back(std::move(d));
        engine_deltas.clear();
      }
      if (!deltas.empty() && cfg.detect) hand_on(cfg.detect, ingest_atom_v, std::move(deltas));
      for (size_t i = 0; i < cfg.tallies.size() && i < self->state.engines.size(); ++i) {
        const auto& e = self->state.engines[i];
        auto& t = *cfg.tallies[i];
        t.open_groups = e.open_groups();
        t.watermark_ms = e.watermark();
        t.late_events = e.late_dropped();
        t.dropped_groups = e.groups_dropped();
        t.values_cut = e.values_cut();
      }
      warn_overflow(self->state);
    };

    // The next slice of the windows the watermark passed; true while some
    // window has more to close.
    auto close_slices = [self, cfg]() {
      auto& st = self->state;
      st.closing.resize(st.engines.size(), 0);
      bool more = false;
      for (size_t i = 0; i < st.engines.size(); ++i) {
        auto& e = st.engines[i];
        if (st.closing[i] == 0) {
          st.closing[i] = e.closing_groups();
          if (st.closing[i] == 0) continue;
          spdlog::debug("window stage: window {} closing {} groups, {} a turn", e.config().name, st.closing[i],
                        groups_per_close_slice());
        }
        if (!e.close_some(groups_per_close_slice(), st.closed[i])) {
          more = true;
          continue;
        }
        spdlog::debug("window stage: window {} closed {} groups", e.config().name, st.closing[i]);
        st.closing[i] = 0;
      }
      return more;
    };
    // Closes a slice now, and asks for the next turn while more is left.
    auto schedule_closes = [self, close_slices]() mutable {
      auto& st = self->state;
      if (close_slices() && !st.close_scheduled) {
        st.close_scheduled = true;
        self->send(self, close_atom_v);
      }
    };

    // Records to the record sinks, in read order: as the parse stages
    // formatted them (in parallel), or formatted here (records from an agent).
    auto write_records = [self, cfg, hand_on](event_batch& b) mutable {
      const bool formatted = b.record_lines.size() == cfg.record_sinks.size();
      for (size_t k = 0; k < cfg.record_sinks.size(); ++k) {
        const auto& out = cfg.record_sinks[k];
        std::vector<std::string> lines;
        if (formatted) lines = std::move(b.record_lines[k]);
        else append_record_lines(out.format, *cfg.records, b, lines);
        if (!lines.empty()) hand_on(out.sink, write_atom_v, std::move(lines));
      }
    };
    // The events of one batch into every window.
    auto process = [self, cfg, publish, send_deltas, hand_on, write_records, schedule_closes](event_batch& b) mutable {
      auto& st = self->state;
      if (!st.seen_events && (!b.events.empty() || !b.partials.empty() || !b.records.empty())) {
        st.seen_events = true;
        // How long a (re)start took to get going: state loaded, sources open.
        spdlog::info("window stage: first events in, {} ms after the process started", process_uptime_ms());
      }
      auto known = st.input_of.find(b.source);
      const size_t input = known != st.input_of.end() ? known->second : 0;
      const auto now = std::chrono::steady_clock::now();
      if (!b.events.empty() || !b.partials.empty() || !b.records.empty()) {
        st.last_events[input] = now;
        st.idle[input] = false;  // the engines un-idle it with its events
      }
      for (size_t i = 0; i < st.idle.size(); ++i) {
        if (st.idle[i] || now - st.last_events[i] < cfg.idle_after) continue;
        st.idle[i] = true;
        spdlog::info("window stage: source {} sent nothing for {} s: it no longer holds windows open",
                     i < cfg.sources.size() ? cfg.sources[i] : "?", cfg.idle_after.count() / 1000);
        for (auto& e : st.engines) e.set_idle(i, true);
      }
      if (!b.partials.empty()) {
        merge_partials(b.partials, input, st.engines, st.closed, st.merged);
      } else {
        st.merged.assign(st.engines.size(), false);
      }
      batch_event_view events(b, cfg.label_names);
      for (size_t k = 0; k < events.size(); ++k) {
        const window_event& e = events.at(k);
        for (size_t i = 0; i < st.engines.size(); ++i)
          if (!st.merged[i] && !st.engines[i].over_records()) st.engines[i].add(e, st.closed[i], input);
      }
      if (!b.records.empty()) {
        window_event e;
        e.record_text = b.text;
        e.prepared = true;
        for (size_t k = 0; k < b.records.size(); ++k) {
          const record_info& info = b.records.rows[k];
          e.time_ms = info.time_ms;
          e.record = b.records.row(k);
          e.record_meta = &info;
          // An invalid event has its time only: it counts in the windows
          // of the whole stream, not in a group of fields it lacks.
          const bool invalid = (info.quality & record_quality::invalid) != 0;
          for (size_t i = 0; i < st.engines.size(); ++i)
            if (st.engines[i].over_records() && !(invalid && !st.engines[i].config().group_by.empty()))
              st.engines[i].add(e, st.closed[i], input);
        }
        write_records(b);
      }
      schedule_closes();
      // Deltas first: the detect stage works through a closing window's
      // groups while this stage formats its results.
      send_deltas();
      publish();
      if (!b.quarantined.empty() && cfg.quarantine) hand_on(cfg.quarantine, write_atom_v, b.quarantined);
      if (!b.attack_lines.empty())
        for (size_t k = 0; k < cfg.attack_sinks.size(); ++k)
          hand_on(cfg.attack_sinks[k], write_atom_v,
                  k + 1 == cfg.attack_sinks.size() ? std::move(b.attack_lines) : b.attack_lines);
    };
    // A piece of the part being written, to be streamed to disk: the
    // engines' states in order, each as it is written (engines before
    // `stream_next` are all out; the one at it, a MiB or more at a time).
    auto send_pieces = [self, cfg](size_t engines_done) {
      auto& st = self->state;
      if (!cfg.checkpoint_in_pieces) return;
      auto send = [&](std::string piece) {
        if (piece.empty()) return;
        state_part part{st.saving, state_kind::window, "windows", std::move(st.part_header)};
        st.part_header.clear();
        part.tail.push_back(std::move(piece));
        part.more = true;
        st.streamed_bytes += part.size();
        self->send(cfg.coordinator, checkpoint_atom_v, std::move(part));
      };
      constexpr size_t piece_bytes = size_t{1} << 20;
      if (st.streamed_bytes == 0) {
        // A part that never reaches a MiB goes whole, at its end, as before.
        size_t pending = 0;
        for (size_t k = 0; k < st.engines.size() && k <= engines_done; ++k) pending += st.engines[k].saved_size();
        if (pending < piece_bytes) return;
      }
      for (; st.stream_next < engines_done; ++st.stream_next) send(st.engines[st.stream_next].take_saved());
      if (st.stream_next < st.engines.size() && st.engines[st.stream_next].saved_size() >= piece_bytes)
        send(st.engines[st.stream_next].take_saved());
    };
    // The windows' state of the checkpoint being written, once all of it
    // is: to the coordinator.
    auto send_saved = [self, cfg]() {
      auto& st = self->state;
      // Each engine's state goes as the piece it wrote, not copied into one;
      // what pieces took already went before (the header with the first).
      state_part part{st.saving, state_kind::window, "windows", std::move(st.part_header)};
      for (auto& e : st.engines) part.tail.push_back(e.end_save());
      part.tail.push_back(std::move(st.saved_detectors));
      spdlog::debug("window stage: checkpoint {}: {} bytes of state, written in {} slices over {} ms", st.saving,
                    st.streamed_bytes + part.size(), st.save_slices,
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - st.save_started).count());
      self->send(cfg.coordinator, checkpoint_atom_v, std::move(part));
      st.saving = 0;
      st.streamed_bytes = 0;
      st.part_header.clear();
    };
    // Once every source's barrier is in: the windows' state as it is now
    // is fixed, and written in slices between the batches that follow
    // (the engines write a group about to change first). The barrier goes
    // on to the detect stage and the window sinks at once, behind
    // everything this stage sent them before.
    auto store_checkpoint = [self, cfg, send_saved](uint64_t id) mutable {
      auto& st = self->state;
      if (st.saving != 0) send_saved();  // the previous one, finished now
      st.saving = id;
      st.save_started = std::chrono::steady_clock::now();
      st.save_slices = 0;
      for (auto& e : st.engines) e.begin_save(cfg.checkpoint_in_pieces);
      st.stream_next = 0;
      state_writer header;
      header.u64(st.engines.size());
      st.part_header = header.take();
      // Detectors change only at closes, between batches: saved whole, now.
      state_writer dw;
      dw.u64(st.detectors.size());
      for (const auto& d : st.detectors) d.save(dw);
      st.saved_detectors = dw.take();
      if (cfg.detect) self->send(cfg.detect, checkpoint_atom_v, id);
      for (const auto& [window, sink] : cfg.window_sinks) self->send(sink, checkpoint_atom_v, id);
      if (cfg.quarantine) self->send(cfg.quarantine, checkpoint_atom_v, id);
      for (const auto& sink : cfg.attack_sinks) self->send(sink, checkpoint_atom_v, id);
      for (const auto& out : cfg.record_sinks) self->send(out.sink, checkpoint_atom_v, id);
      self->send(self, checkpoint_atom_v, id);
    };
    // Processes a batch; a barrier in it counts toward alignment. False if
    // the batch must wait (its source's barrier for this checkpoint came).
    auto take = [self, cfg, process, store_checkpoint](event_batch& b) mutable -> bool {
      auto& st = self->state;
      if (st.aligning != 0 && st.barrier_from.count(b.source)) return false;
      process(b);
      if (b.barrier != 0 && cfg.coordinator) {
        st.aligning = b.barrier;
        st.barrier_from.insert(b.source);
        if (st.barrier_from.size() >= cfg.sources.size()) {
          store_checkpoint(b.barrier);
          st.aligning = 0;
          st.barrier_from.clear();
        }
      }
      return true;
    };
    // After an alignment, the held batches in arrival order (one of them
    // may start the next alignment and be held again).
    auto release_held = [self, take]() mutable {
      auto& st = self->state;
      std::deque<held_batch> waiting;
      waiting.swap(st.held);
      while (!waiting.empty()) {
        held_batch h = std::move(waiting.front());
        waiting.pop_front();
        if (take(h.batch)) {
          st.gate->deliver(h.reply, h.batch.events.size());
        } else {
          st.held.push_back(std::move(h));
        }
      }
    };

    // A batch whose turn came: processed, or held behind its barrier.
    auto admit = [self, take](held_batch& h) mutable {
      auto& st = self->state;
      if (take(h.batch)) st.gate->deliver(h.reply, h.batch.events.size());
      else st.held.push_back(std::move(h));
    };

    return {
      [=](ingest_atom, event_batch& b) mutable -> caf::result<uint64_t> {
        auto& st = self->state;
        stage_timer timer(cfg.stage.get(), self);
        if (cfg.stage)
          cfg.stage->items_in += b.events.size() + b.summarized + b.records.records() + b.quarantined.size();
        auto rp = self->make_response_promise<uint64_t>();
        try {
          auto& order = st.order[b.source];
          const uint64_t sequence = b.sequence;
          order.take(sequence, held_batch{std::move(b), rp}, admit);
          if (st.aligning == 0 && !st.held.empty()) release_held();
        } catch (const std::exception& ex) {
          rp.deliver(caf::make_error(caf::sec::runtime_error, std::string("window stage: ") + ex.what()));
        }
        return rp;
      },
      [=](checkpoint_atom, uint64_t id) mutable {
        auto& st = self->state;
        stage_timer timer(cfg.stage.get(), self);
        if (st.saving != id) return;  // finished early, by a flush or the next checkpoint
        ++st.save_slices;
        size_t budget = groups_per_save_slice;
        size_t engines_done = 0;
        for (auto& e : st.engines) {
          if (!e.save_some(budget)) break;
          ++engines_done;
        }
        if (engines_done == st.engines.size()) {
          send_saved();
        } else {
          send_pieces(engines_done);
          self->send(self, checkpoint_atom_v, id);
        }
      },
      [=](close_atom) mutable {
        auto& st = self->state;
        stage_timer timer(cfg.stage.get(), self);
        st.close_scheduled = false;
        schedule_closes();
        send_deltas();
        publish();
      },
      [=](flush_atom, bool close_windows) mutable -> caf::result<bool> {
        auto& st = self->state;
        if (st.saving != 0) send_saved();
        if (close_windows) {
          // Slice by slice, each slice's results out before the next: the
          // end of a run with a million open groups is not in memory twice.
          for (bool more = true; more;) {
            more = false;
            for (size_t i = 0; i < st.engines.size(); ++i)
              if (!st.engines[i].flush_some(groups_per_close_slice(), st.closed[i])) more = true;
            send_deltas();
            publish();
          }
          st.closing.assign(st.engines.size(), 0);
        }
        // Mailboxes are FIFO: flushes sent after the writes and deltas
        // reply after those are handled.
        auto rp = self->make_response_promise<bool>();
        auto pending = std::make_shared<size_t>(cfg.window_sinks.size() + (cfg.detect ? 1 : 0) + (cfg.quarantine ? 1 : 0)
                                                + cfg.record_sinks.size() + cfg.attack_sinks.size());
        if (*pending == 0) {
          rp.deliver(true);
          return rp;
        }
        auto done = [rp, pending](bool) mutable {
          if (--*pending == 0) rp.deliver(true);
        };
        auto failed = [done](caf::error&) mutable { done(false); };
        if (cfg.detect) self->request(cfg.detect, caf::infinite, flush_atom_v).then(done, failed);
        for (const auto& [w, sink] : cfg.window_sinks)
          self->request(sink, caf::infinite, flush_atom_v).then(done, failed);
        if (cfg.quarantine) self->request(cfg.quarantine, caf::infinite, flush_atom_v).then(done, failed);
        for (const auto& out : cfg.record_sinks) self->request(out.sink, caf::infinite, flush_atom_v).then(done, failed);
        for (const auto& sink : cfg.attack_sinks) self->request(sink, caf::infinite, flush_atom_v).then(done, failed);
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
