#include "actors/parse_stage.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "clean/duplicate_filter.hpp"
#include "parse/timestamp.hpp"
#include "state/state_codec.hpp"

namespace vigil {

source_tally::~source_tally() {
  const uint64_t dropped = duplicates + records.duplicates;
  if (malformed > 0 || dropped > 0)
    spdlog::info("source {}: {} malformed lines, {} duplicate lines dropped", source, malformed.load(), dropped);
  if (records.filtered > 0 || records.missing_keys > 0)
    spdlog::info("source {}: {} events filtered out, {} lookups without a row", source, records.filtered.load(),
                 records.missing_keys.load());
}

namespace {

struct parse_state {
  std::unique_ptr<line_parser> parser;
  std::unique_ptr<record_pipeline> records;
  std::vector<record_failure> record_failures;
  std::shared_ptr<duplicate_filter> duplicates;
  std::vector<line_failure> failures;
  std::shared_ptr<source_tally> tally;
  static inline const char* name = "parse_stage";
};

/// Methods and protocols arrive as "get" or "http/1.1" from some clients;
/// windows group on them, so one spelling.
void upper_in_place(std::string& text, text_ref r) {
  for (uint32_t i = r.offset; i < r.offset + r.length; ++i)
    if (text[i] >= 'a' && text[i] <= 'z') text[i] = static_cast<char>(text[i] - 'a' + 'A');
}

/// Bytes of a quarantined line kept in its record, as `analyze
/// --quarantine` keeps: hostile lines of 64 KiB, escaped as JSON, made the
/// quarantine several times the size of the input.
constexpr size_t quarantine_text_bytes = 4096;

std::vector<std::string> quarantine_lines(const std::string& source, const text_chunk& chunk,
                                          const std::string& text, const std::vector<line_failure>& failures) {
  std::vector<std::string> lines;
  for (const auto& f : failures) {
    nlohmann::ordered_json j = {{"source", source},
                                {"file", chunk.origin},
                                {"offset", chunk.offset + f.text.offset},
                                {"reason", to_string(f.reason)},
                                {"text", std::string_view(text.data() + f.text.offset, std::min<size_t>(f.text.length, quarantine_text_bytes))}};
    lines.push_back(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return lines;
}

std::vector<std::string> quarantine_records(const std::string& source, const text_chunk& chunk,
                                            const std::string& text, const std::vector<record_failure>& failures) {
  std::vector<std::string> lines;
  for (const auto& f : failures) {
    nlohmann::ordered_json j = {{"source", source},
                                {"file", chunk.origin},
                                {"offset", chunk.offset + f.text.offset},
                                {"reason", to_string(f.problem.reason)},
                                {"field", f.problem.field},
                                {"value", f.problem.value},
                                {"text", std::string_view(text.data() + f.text.offset, std::min<size_t>(f.text.length, quarantine_text_bytes))}};
    lines.push_back(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return lines;
}

/// The latest event time a chunk parsed now may carry.
int64_t latest_event_ms(const parse_stage_config& cfg) {
  return cfg.max_future_ms > 0 ? wall_clock_ms() + cfg.max_future_ms : INT64_MAX;
}

/// Said once per source: why its lines with times ahead of the clock go to
/// the quarantine instead of into the windows.
void warn_future(const parse_stage_config& cfg, source_tally& tally, const std::string& stamp) {
  if (tally.future_seen.exchange(true)) return;
  spdlog::warn("source {}: an event stamped {} is more than {} ms ahead of this machine's clock: such events are "
               "counted as future_timestamp{} and do not move the watermark (the source's max_future)",
               cfg.source, stamp, cfg.max_future_ms,
               cfg.quarantine ? " and quarantined" : " (no quarantine sink)");
}

/// The web-log path of a chunk: events.
void parse_events(parse_state& st, const parse_stage_config& cfg, const text_chunk& chunk, event_batch& batch) {
  st.failures.clear();
  st.parser->parse(chunk.format, batch.text.size(), batch, st.failures);
  const int64_t latest = latest_event_ms(cfg);
  size_t kept = 0;
  int64_t newest = INT64_MIN;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    log_event& e = batch.events[i];
    if (e.time_ms > latest) {
      warn_future(cfg, *st.tally, format_rfc3339_utc(e.time_ms));
      st.failures.push_back({0, parse_error::future_timestamp, e.raw});
      continue;
    }
    if (st.duplicates->enabled() && st.duplicates->seen(batch.view(e.raw), e.time_ms)) {
      ++st.tally->duplicates;
      continue;
    }
    upper_in_place(batch.text, e.method);
    upper_in_place(batch.text, e.protocol);
    newest = std::max(newest, e.time_ms);
    if (kept != i) batch.events[kept] = e;
    ++kept;
  }
  batch.events.resize(kept);
  st.tally->saw_event_time(newest);
  st.tally->events += kept;
  st.tally->bytes += batch.text.size();
  if (!st.failures.empty()) {
    for (const auto& f : st.failures) ++st.tally->malformed_by_reason[static_cast<size_t>(f.reason)];
    if (st.tally->malformed.fetch_add(st.failures.size()) == 0)
      spdlog::warn("source {}: malformed line ({}); such lines are counted{}", cfg.source,
                   to_string(st.failures.front().reason),
                   cfg.quarantine ? " and quarantined" : " (no quarantine sink)");
    if (cfg.quarantine) batch.quarantined = quarantine_lines(cfg.source, chunk, batch.text, st.failures);
  }
}

/// The ETL path of a chunk: records instead of events.
void parse_records(parse_state& st, const parse_stage_config& cfg, const text_chunk& chunk, event_batch& batch) {
  st.record_failures.clear();
  const int64_t now = wall_clock_ms();
  st.records->run(batch.text.size(), batch, st.record_failures, st.duplicates.get(), st.tally->records, now,
                  cfg.max_future_ms > 0 ? now + cfg.max_future_ms : INT64_MAX);
  st.tally->events += batch.records.records();
  st.tally->bytes += batch.text.size();
  int64_t newest = INT64_MIN;
  for (const auto& r : batch.records.rows) newest = std::max(newest, r.time_ms);
  st.tally->saw_event_time(newest);
  // The sinks' lines, here where the stages run side by side, not in the
  // one window stage all records pass through.
  const auto& outputs = cfg.records->outputs;
  batch.record_lines.resize(outputs.size());
  for (size_t k = 0; k < outputs.size(); ++k)
    append_record_lines(outputs[k], cfg.records->layout, batch, batch.record_lines[k]);
  if (st.record_failures.empty()) return;
  for (const auto& f : st.record_failures)
    if (f.problem.reason == record_error::future_timestamp) {
      warn_future(cfg, *st.tally, f.problem.value);
      break;
    }
  if (st.tally->malformed.fetch_add(st.record_failures.size()) == 0)
    spdlog::warn("source {}: invalid event ({} {}); such events are counted{}", cfg.source,
                 to_string(st.record_failures.front().problem.reason), st.record_failures.front().problem.field,
                 cfg.quarantine ? " and quarantined" : " (no quarantine sink)");
  if (cfg.quarantine) batch.quarantined = quarantine_records(cfg.source, chunk, batch.text, st.record_failures);
}

} // namespace

parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg) {
  auto behavior = [cfg](parse_stage_actor::stateful_pointer<parse_state> self)
    -> parse_stage_actor::behavior_type {
    self->state.tally = cfg.tally ? cfg.tally : std::make_shared<source_tally>(cfg.source);
    self->state.parser = std::make_unique<line_parser>(cfg.parser);
    if (cfg.records)
      self->state.records = std::make_unique<record_pipeline>(cfg.records, cfg.lookups, cfg.parser.max_line_bytes);
    // Lookup files are looked at once a second, data or not (the first
    // stage to see a change reloads; the others find it done).
    if (cfg.lookups) self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
    self->state.duplicates = cfg.restored_filter ? cfg.restored_filter
                                                 : std::make_shared<duplicate_filter>(cfg.dedup_horizon_ms);
    return {
      [=](tick_atom) {
        cfg.lookups->refresh();
        self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
      },
      [=](parse_atom, text_chunk& chunk) -> caf::result<uint64_t> {
        auto& st = self->state;
        stage_timer timer(cfg.stage.get(), self);
        event_batch batch;
        batch.source = cfg.source;
        batch.sequence = chunk.sequence;
        batch.barrier = chunk.barrier;
        try {
          batch.text.swap(chunk.text);
          if (st.records) parse_records(st, cfg, chunk, batch);
          else parse_events(st, cfg, chunk, batch);
        } catch (const std::exception& ex) {
          // The batch still goes on, empty: the window stage waits for every
          // sequence number, and the barrier in it must pass.
          spdlog::error("source {}: parse stage: chunk {} dropped: {}", cfg.source, chunk.sequence, ex.what());
          batch.events.clear();
          batch.quarantined.clear();
        }
        // The filter has seen every line before the barrier: its part of the
        // checkpoint.
        if (chunk.barrier != 0 && cfg.coordinator && st.duplicates->enabled()) {
          state_writer w;
          st.duplicates->save(w);
          self->send(cfg.coordinator, checkpoint_atom_v,
                     state_part{chunk.barrier, state_kind::source, "dedup:" + cfg.source, w.take()});
        }
        // Reply to the source (its credit) once the next stage took it.
        auto rp = self->make_response_promise<uint64_t>();
        const uint64_t n = batch.events.size() + batch.records.records();
        if (cfg.stage) {
          cfg.stage->items_in += n + batch.quarantined.size();
          cfg.stage->items_out += n;
        }
        self->request(cfg.next, caf::infinite, ingest_atom_v, std::move(batch))
          .then([rp, n](uint64_t) mutable { rp.deliver(n); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
