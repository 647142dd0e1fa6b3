#include "pipeline/node_http.hpp"

#include "actors/checkpoint_coordinator.hpp"
#include "actors/line_sink.hpp"
#include "actors/parse_stage.hpp"
#include "actors/window_stage.hpp"
#include "alerting/alert_board.hpp"
#include "metrics/dashboard_page.hpp"
#include "metrics/http_endpoint.hpp"
#include "metrics/process_metrics.hpp"
#include "metrics/registry.hpp"
#include "notify/webhook_sender.hpp"
#include "pipeline/node_status.hpp"

namespace vigil {

node_http::node_http(const vigil_config& cfg, std::shared_ptr<source_tallies> sources,
                     std::shared_ptr<checkpoint_tally> checkpoints, std::shared_ptr<alert_board> alerts,
                     std::vector<std::shared_ptr<window_tally>> windows,
                     std::map<std::string, std::shared_ptr<webhook_stats>> sinks)
  : registry_(std::make_shared<metrics_registry>()) {
  if (cfg.node.http.empty()) return;
  using kind = metrics_registry::kind;
  auto& r = *registry_;
  r.describe("vigil_node_info", kind::gauge, "This node: its name and role.");
  r.set("vigil_node_info", {{"node", cfg.node.name}, {"role", "single"}}, 1);
  r.describe("vigil_source_events_total", kind::counter, "Lines parsed into events, per source.");
  r.describe("vigil_source_bytes_total", kind::counter, "Bytes of text parsed, per source.");
  r.describe("vigil_source_malformed_lines_total", kind::counter,
             "Lines that did not parse (counted, quarantined with their reason), per source.");
  r.describe("vigil_source_duplicate_lines_total", kind::counter, "Lines dropped within dedup_horizon, per source.");
  r.describe("vigil_source_malformed_lines_by_reason_total", kind::counter,
             "Lines that did not parse, per source and reason (too_long, not_utf8, bad_timestamp, ...).");
  r.describe("vigil_source_lag_bytes", kind::gauge, "Bytes written to the source's files and not read yet.");
  r.describe("vigil_checkpoints_total", kind::counter, "Checkpoints written, and those that failed.");
  r.describe("vigil_checkpoint_last_success_timestamp_seconds", kind::gauge,
             "When the last checkpoint was written (Unix time); 0 before the first.");
  r.describe("vigil_checkpoint_size_bytes", kind::gauge, "Size of the state in the last checkpoint begun.");
  r.describe("vigil_sinks_failing", kind::gauge,
             "Sinks whose writes are failing now (retried; the pipeline waits); /readyz is 503 meanwhile.");
  r.describe("vigil_window_open_groups", kind::gauge, "Groups open now, per window.");
  r.describe("vigil_window_watermark_timestamp_seconds", kind::gauge,
             "Event time up to which the window has closed (Unix time), per window.");
  r.describe("vigil_window_late_events_total", kind::counter,
             "Events behind the watermark: counted and dropped, per window.");
  r.describe("vigil_window_dropped_groups_total", kind::counter, "Groups not kept: over max_groups, per window.");
  r.describe("vigil_alerts_total", kind::counter, "Alerts sent on (replays not counted), per rule, severity and status.");
  r.describe("vigil_sink_deliveries_total", kind::counter, "Requests a webhook or Alertmanager sink delivered.");
  r.describe("vigil_sink_retries_total", kind::counter, "Failed attempts, each retried with backoff, per sink.");
  r.describe("vigil_sink_dropped_total", kind::counter,
             "Notifications given up on (max_attempts) or pushed out of a full queue, per sink.");
  r.describe("vigil_sink_queue_depth", kind::gauge, "Notifications waiting or in flight, per sink.");
  r.on_render([sinks](metrics_registry& m) {
    for (const auto& [name, st] : sinks) {
      const metrics_registry::labels l{{"sink", name}};
      m.set("vigil_sink_deliveries_total", l, static_cast<double>(st->delivered.load()));
      m.set("vigil_sink_retries_total", l, static_cast<double>(st->failed_attempts.load()));
      m.set("vigil_sink_dropped_total", l, static_cast<double>(st->dropped.load()));
      m.set("vigil_sink_queue_depth", l, static_cast<double>(st->queued.load()));
    }
  });
  for (const auto& s : cfg.sources) sources->of(s.name);  // every source shows, from 0
  r.on_render([windows, alerts](metrics_registry& m) {
    for (const auto& w : windows) {
      const metrics_registry::labels l{{"window", w->window}};
      m.set("vigil_window_open_groups", l, static_cast<double>(w->open_groups.load()));
      m.set("vigil_window_watermark_timestamp_seconds", l, static_cast<double>(w->watermark_ms.load()) / 1000.0);
      m.set("vigil_window_late_events_total", l, static_cast<double>(w->late_events.load()));
      m.set("vigil_window_dropped_groups_total", l, static_cast<double>(w->dropped_groups.load()));
    }
    for (const auto& [key, n] : alerts->sent()) {
      const auto& [rule, severity, status] = key;
      m.set("vigil_alerts_total", {{"rule", rule}, {"severity", severity}, {"status", status}}, static_cast<double>(n));
    }
  });
  r.on_render([sources, checkpoints](metrics_registry& m) {
    for (const auto& t : sources->all()) {
      const metrics_registry::labels l{{"source", t->source}};
      m.set("vigil_source_events_total", l, static_cast<double>(t->events.load()));
      m.set("vigil_source_bytes_total", l, static_cast<double>(t->bytes.load()));
      m.set("vigil_source_malformed_lines_total", l, static_cast<double>(t->malformed.load()));
      m.set("vigil_source_duplicate_lines_total", l, static_cast<double>(t->duplicates.load()));
      m.set("vigil_source_lag_bytes", l, static_cast<double>(t->lag_bytes.load()));
      for (size_t r = 1; r < parse_error_count; ++r)
        if (const uint64_t n = t->malformed_by_reason[r].load())
          m.set("vigil_source_malformed_lines_by_reason_total",
                {{"source", t->source}, {"reason", std::string(to_string(static_cast<parse_error>(r)))}},
                static_cast<double>(n));
    }
    m.set("vigil_checkpoints_total", {{"result", "written"}}, static_cast<double>(checkpoints->written.load()));
    m.set("vigil_checkpoints_total", {{"result", "failed"}}, static_cast<double>(checkpoints->failed.load()));
    m.set("vigil_checkpoint_last_success_timestamp_seconds", {},
          static_cast<double>(checkpoints->last_written_ms.load()) / 1000.0);
    m.set("vigil_checkpoint_size_bytes", {}, static_cast<double>(checkpoints->last_bytes.load()));
    m.set("vigil_sinks_failing", {}, static_cast<double>(failing_sinks()));
  });
  add_process_metrics(r);
  auto unready = [started = started_, checkpoints, sources]() -> std::string {
    if (!started->load()) return "starting";
    for (const auto& t : sources->all())
      if (std::string problem = t->access_problem(); !problem.empty()) return "source " + t->source + ": " + problem;
    if (int n = checkpoints->failing_in_a_row.load()) return "the last " + std::to_string(n) + " checkpoint(s) failed";
    if (size_t n = failing_sinks()) return std::to_string(n) + " sink(s) failing to write";
    return "";
  };
  status_ = std::make_unique<node_status>(cfg.node.name, "single", sources, checkpoints, alerts, unready);
  const node_status* status = status_.get();
  std::vector<http_page> pages = {
    {"/", "text/html; charset=utf-8", [status] { return dashboard_page(status->status_json()); }, false},
    {"/api/v1/status", "application/json", [status] { return status->status_json(); }, false},
    {"/api/v1/alerts", "application/json", [status] { return status->alerts_json(); }, false},
    {"/api/v1/events", "text/event-stream", [status] { return status->status_json(); }, true},
  };
  http_ = std::make_unique<http_endpoint>(cfg.node.http, registry_, unready, std::move(pages));
}

node_http::~node_http() {
  http_.reset();  // no page reads the status after this
  status_.reset();
}

int node_http::port() const noexcept { return http_ ? http_->port() : 0; }

} // namespace vigil
