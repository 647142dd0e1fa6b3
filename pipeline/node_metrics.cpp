#include "pipeline/node_metrics.hpp"

#include <algorithm>
#include <string_view>

#include "actors/line_sink.hpp"
#include "metrics/registry.hpp"
#include "parse/timestamp.hpp"
#include "pipeline/node_counters.hpp"

namespace vigil {

namespace {

using kind = metrics_registry::kind;

struct metric_doc {
  const char* name;
  kind type;
  const char* help;
};

const metric_doc node_metrics[] = {
  {"vigil_node_info", kind::gauge, "This node: its name and role."},
  {"vigil_source_events_total", kind::counter, "Lines parsed into events, per source."},
  {"vigil_source_bytes_total", kind::counter, "Bytes of text parsed, per source."},
  {"vigil_source_malformed_lines_total", kind::counter,
   "Lines that did not parse (counted, quarantined with their reason), per source."},
  {"vigil_source_malformed_lines_by_reason_total", kind::counter,
   "Lines that did not parse, per source and reason (too_long, not_utf8, bad_timestamp, ...)."},
  {"vigil_source_duplicate_lines_total", kind::counter, "Lines dropped within dedup_horizon, per source."},
  {"vigil_source_lag_bytes", kind::gauge, "Bytes written to the source's files and not read yet."},
  {"vigil_source_records_total", kind::counter, "Events that became records (a source with a schema), per source."},
  {"vigil_source_invalid_events_total", kind::counter,
   "Events a schema or lookup refused (quarantined), per source and reason (bad_json, missing_field, bad_type, ...)."},
  {"vigil_source_filtered_events_total", kind::counter, "Records the source's filter dropped, per source."},
  {"vigil_source_lookup_misses_total", kind::counter, "Lookups that found no row, per source."},
  {"vigil_source_http_requests_total", kind::counter,
   "Ingest requests of an http source, per result (accepted, rejected: 400/401/413, throttled: 429/503)."},
  {"vigil_source_zmq_messages_total", kind::counter,
   "Messages a zmq source read, per result (taken, bad: not msgpack or hostile, too_large: over max_frame_bytes)."},
  {"vigil_source_zmq_refused_peers_total", kind::counter,
   "CurveZMQ handshakes a zmq source refused (a key not in curve_allowed_keys)."},
  {"vigil_source_field_events_total", kind::counter,
   "Events per schema field and kind: null (absent), invalid (quarantined for it), coerced, defaulted."},
  {"vigil_source_event_lag_seconds", kind::gauge,
   "Now minus the newest event time the source has parsed: how far behind the stream it is (0 before any)."},
  {"vigil_lookup_rows", kind::gauge, "Rows of the lookup table in use, per lookup."},
  {"vigil_lookup_reload_failures_total", kind::counter,
   "Lookup reloads that failed (the table before stays in use)."},
  {"vigil_window_open_groups", kind::gauge, "Groups open now, per window."},
  {"vigil_window_watermark_timestamp_seconds", kind::gauge,
   "Event time up to which the window has closed (Unix time), per window."},
  {"vigil_window_late_events_total", kind::counter, "Events behind the watermark: counted and dropped, per window."},
  {"vigil_window_group_values_cut_total", kind::counter, "Events whose group value was over 256 bytes: cut, with a hash of the whole, per window."},
  {"vigil_detector_series", kind::gauge, "Series the window's detectors keep a baseline of."},
  {"vigil_detector_series_dropped_total", kind::counter, "Window values of series over a detector's max_series: not judged."},
  {"vigil_window_dropped_groups_total", kind::counter, "Events of keys over max_groups, counted in overflow groups (their network, then one overflow group), per window."},
  {"vigil_alerts_total", kind::counter, "Alerts sent on (replays not counted), per rule, severity and status."},
  {"vigil_checkpoints_total", kind::counter, "Checkpoints written, and those that failed."},
  {"vigil_checkpoint_last_success_timestamp_seconds", kind::gauge,
   "When the last checkpoint was written (Unix time); 0 before the first."},
  {"vigil_checkpoint_size_bytes", kind::gauge, "Size of the state in the last checkpoint begun."},
  {"vigil_checkpoint_duration_seconds", kind::histogram,
   "From a checkpoint's barriers to its state stored in RocksDB, per checkpoint written."},
  {"vigil_sinks_failing", kind::gauge,
   "Sinks whose writes are failing now (retried; the pipeline waits); /readyz is 503 meanwhile."},
  {"vigil_sink_deliveries_total", kind::counter, "Requests a webhook or Alertmanager sink delivered."},
  {"vigil_sink_retries_total", kind::counter, "Failed attempts, each retried with backoff, per sink."},
  {"vigil_sink_dropped_total", kind::counter,
   "Notifications given up on (max_attempts) or pushed out of a full queue, per sink."},
  {"vigil_sink_queue_depth", kind::gauge, "Notifications waiting or in flight, per sink."},
  {"vigil_sink_oldest_wait_seconds", kind::gauge,
   "Age of the oldest notification waiting or in flight, per sink (0: none): grows while an endpoint is stuck."},
  {"vigil_checkpoint_bytes", kind::histogram, "Bytes of state per checkpoint written."},
  {"vigil_checkpoint_age_seconds", kind::gauge,
   "Seconds since the last checkpoint was written (0 before the first): grows while checkpoints stall."},
  {"vigil_stage_items_total", kind::counter,
   "Items a pipeline stage took in and handed on (direction in|out; dropped: a sink's lines over its max_bytes): lines and events for parse, events for "
   "enrich and windows, window changes for detect, alerts for alerts, lines or rows for a sink."},
  {"vigil_stage_busy_seconds_total", kind::counter,
   "Time a stage's handlers ran; a rate near 1 (per worker) is the pipeline's bottleneck."},
  {"vigil_stage_mailbox_depth", kind::gauge,
   "Messages waiting in a stage's mailbox after its last handler (for stages of several workers, the last one's)."},
  {"vigil_sink_rows_total", kind::counter,
   "Rows of a database sink: written (committed), rejected (refused by the database, kept in vigil_sink_rejects) "
   "and skipped (replayed after a restart, in the database already)."},
  {"vigil_sink_transactions_total", kind::counter, "Transactions a database sink committed."},
  {"vigil_sink_pending_rows", kind::gauge, "Rows a database sink holds, not yet committed."},
  {"vigil_sink_failing_seconds", kind::gauge,
   "How long a database sink's write (or connection) has been failing and retried (0: it is not)."},
};

/// Whether a node of `parts` has family `name`: the source families
/// (`vigil_source_*`, `vigil_lookup_*`) go with its sources, the stages,
/// the node's info and its failing sinks with either, the rest with its
/// pipeline. So an agent's page describes no window it does not run.
bool has_family(std::string_view name, node_metric_parts parts) {
  auto starts = [&](std::string_view prefix) { return name.substr(0, prefix.size()) == prefix; };
  if (starts("vigil_source_") || starts("vigil_lookup_")) return parts.sources;
  if (starts("vigil_stage_") || name == "vigil_node_info" || name == "vigil_sinks_failing") return true;
  return parts.pipeline;
}

double num(uint64_t v) { return static_cast<double>(v); }

template <size_t N>
void set_fixed_histogram(metrics_registry& m, const std::string& name, const fixed_histogram<N>& h) {
  std::vector<double> bounds(h.bounds().begin(), h.bounds().end());
  std::vector<uint64_t> counts;
  for (size_t i = 0; i < N; ++i) counts.push_back(h.at_or_below(i));
  m.set_histogram(name, {}, bounds, counts, h.count(), h.sum());
}

/// The counters as they are now, into `m` (run at every scrape).
void render(const node_counters& c, metrics_registry& m, node_metric_parts parts) {
  if (parts.sources) {
    for (const auto& t : c.sources->all()) {
      const metrics_registry::labels l{{"source", t->source}};
      m.set("vigil_source_events_total", l, num(t->events));
      m.set("vigil_source_bytes_total", l, num(t->bytes));
      m.set("vigil_source_malformed_lines_total", l, num(t->malformed));
      m.set("vigil_source_duplicate_lines_total", l, num(t->duplicates + t->records.duplicates));
      m.set("vigil_source_lag_bytes", l, num(t->lag_bytes));
      if (const int64_t newest = t->newest_event_ms; newest != INT64_MIN)
        m.set("vigil_source_event_lag_seconds", l, std::max(0.0, static_cast<double>(wall_clock_ms() - newest) / 1000.0));
      else
        m.set("vigil_source_event_lag_seconds", l, 0);
      for (size_t r = 1; r < parse_error_count; ++r)
        if (const uint64_t n = t->malformed_by_reason[r])
          m.set("vigil_source_malformed_lines_by_reason_total",
                {{"source", t->source}, {"reason", std::string(to_string(static_cast<parse_error>(r)))}}, num(n));
    }
    for (const auto& t : c.sources->all()) {
      const auto& r = t->records;
      if (t->has_schema) {
        const metrics_registry::labels l{{"source", t->source}};
        m.set("vigil_source_records_total", l, num(r.records));
        m.set("vigil_source_filtered_events_total", l, num(r.filtered));
        m.set("vigil_source_lookup_misses_total", l, num(r.missing_keys));
        for (size_t e = 1; e < record_error_count; ++e)
          if (const uint64_t n = r.invalid[e])
            m.set("vigil_source_invalid_events_total",
                  {{"source", t->source}, {"reason", std::string(to_string(static_cast<record_error>(e)))}}, num(n));
        // Data quality per schema field: only fields with something to say.
        for (size_t f = 0; r.fields && f < r.field_names.size(); ++f) {
          const auto& c = r.fields[f];
          for (const auto& [kind, n] : {std::pair<const char*, uint64_t>{"null", c.nulls}, {"invalid", c.invalid},
                                        {"coerced", c.coerced}, {"defaulted", c.defaulted}})
            if (n > 0)
              m.set("vigil_source_field_events_total", {{"source", t->source}, {"field", r.field_names[f]}, {"kind", kind}},
                    num(n));
        }
      }
      if (t->is_http)
        for (const auto& [result, n] : {std::pair<const char*, uint64_t>{"accepted", t->http_accepted},
                                        {"rejected", t->http_rejected}, {"throttled", t->http_throttled}})
          m.set("vigil_source_http_requests_total", {{"source", t->source}, {"result", result}}, num(n));
      if (t->is_zmq) {
        const char* results[] = {"taken", "bad", "too_large"};
        for (size_t i = 0; i < t->zmq_messages.size(); ++i)
          m.set("vigil_source_zmq_messages_total", {{"source", t->source}, {"result", results[i]}},
                num(t->zmq_messages[i]));
        m.set("vigil_source_zmq_refused_peers_total", {{"source", t->source}}, num(t->zmq_refused_peers));
      }
    }
    if (c.lookups) {
      const auto tables = c.lookups->snapshot();
      for (size_t i = 0; i < tables.size() && i < c.lookup_names.size(); ++i)
        m.set("vigil_lookup_rows", {{"lookup", c.lookup_names[i]}}, tables[i] ? num(tables[i]->size()) : 0.0);
      m.set("vigil_lookup_reload_failures_total", {}, num(c.lookups->failed_reloads()));
    }
  }
  for (const auto& t : c.stages->all()) {
    m.set("vigil_stage_items_total", {{"stage", t->stage}, {"direction", "in"}}, num(t->items_in));
    m.set("vigil_stage_items_total", {{"stage", t->stage}, {"direction", "out"}}, num(t->items_out));
    if (const uint64_t dropped = t->items_dropped)
      m.set("vigil_stage_items_total", {{"stage", t->stage}, {"direction", "dropped"}}, num(dropped));
    m.set("vigil_stage_busy_seconds_total", {{"stage", t->stage}}, static_cast<double>(t->busy_ns.load()) / 1e9);
    m.set("vigil_stage_mailbox_depth", {{"stage", t->stage}}, num(t->mailbox));
  }
  if (!parts.pipeline) return;
  for (const auto& w : c.windows) {
    const metrics_registry::labels l{{"window", w->window}};
    m.set("vigil_window_open_groups", l, num(w->open_groups));
    m.set("vigil_window_watermark_timestamp_seconds", l, static_cast<double>(w->watermark_ms.load()) / 1000.0);
    m.set("vigil_window_late_events_total", l, num(w->late_events));
    m.set("vigil_window_dropped_groups_total", l, num(w->dropped_groups));
    m.set("vigil_window_group_values_cut_total", l, num(w->values_cut));
    m.set("vigil_detector_series", l, num(w->detector_series));
    m.set("vigil_detector_series_dropped_total", l, num(w->detector_series_dropped));
  }
  for (const auto& [key, n] : c.alerts->sent()) {
    const auto& [rule, severity, status] = key;
    m.set("vigil_alerts_total", {{"rule", rule}, {"severity", severity}, {"status", status}}, num(n));
  }
  const auto& cp = *c.checkpoints;
  m.set("vigil_checkpoints_total", {{"result", "written"}}, num(cp.written));
  m.set("vigil_checkpoints_total", {{"result", "failed"}}, num(cp.failed));
  m.set("vigil_checkpoint_last_success_timestamp_seconds", {}, static_cast<double>(cp.last_written_ms.load()) / 1000.0);
  m.set("vigil_checkpoint_size_bytes", {}, num(cp.last_bytes));
  set_fixed_histogram(m, "vigil_checkpoint_duration_seconds", cp.duration);
  set_fixed_histogram(m, "vigil_checkpoint_bytes", cp.size);
  const int64_t last_checkpoint = cp.last_written_ms;
  m.set("vigil_checkpoint_age_seconds", {},
        last_checkpoint == 0 ? 0.0 : std::max(0.0, static_cast<double>(wall_clock_ms() - last_checkpoint) / 1000.0));
  m.set("vigil_sinks_failing", {}, num(failing_sinks()));
  for (const auto& [name, st] : c.sinks) {
    const metrics_registry::labels l{{"sink", name}};
    m.set("vigil_sink_deliveries_total", l, num(st->delivered));
    m.set("vigil_sink_retries_total", l, num(st->failed_attempts));
    m.set("vigil_sink_dropped_total", l, num(st->dropped));
    m.set("vigil_sink_queue_depth", l, num(st->queued));
    const int64_t oldest = st->oldest_ms;
    m.set("vigil_sink_oldest_wait_seconds", l,
          oldest == 0 ? 0.0 : std::max(0.0, static_cast<double>(wall_clock_ms() - oldest) / 1000.0));
  }
  for (const auto& [name, st] : c.databases) {
    m.set("vigil_sink_rows_total", {{"sink", name}, {"result", "written"}}, num(st->rows_written));
    m.set("vigil_sink_rows_total", {{"sink", name}, {"result", "rejected"}}, num(st->rows_rejected));
    m.set("vigil_sink_rows_total", {{"sink", name}, {"result", "skipped"}}, num(st->rows_skipped));
    const metrics_registry::labels l{{"sink", name}};
    m.set("vigil_sink_transactions_total", l, num(st->transactions));
    m.set("vigil_sink_retries_total", l, num(st->failed_attempts));
    m.set("vigil_sink_pending_rows", l, num(st->pending));
    const int64_t since = st->failing_since_ms;
    m.set("vigil_sink_failing_seconds", l,
          since == 0 ? 0.0 : std::max(0.0, static_cast<double>(wall_clock_ms() - since) / 1000.0));
  }
}

} // namespace

void add_node_metrics(metrics_registry& registry, std::shared_ptr<const node_counters> counters,
                      node_metric_parts parts) {
  for (const auto& d : node_metrics)
    if (has_family(d.name, parts)) registry.describe(d.name, d.type, d.help);
  registry.on_render([counters, parts](metrics_registry& m) { render(*counters, m, parts); });
}

} // namespace vigil
