#include "pipeline/cluster_metrics.hpp"

#include <algorithm>

#include "actors/line_sink.hpp"
#include "metrics/fleet_tally.hpp"
#include "metrics/http_endpoint.hpp"
#include "metrics/process_metrics.hpp"
#include "metrics/registry.hpp"
#include "parse/timestamp.hpp"
#include "pipeline/node_metrics.hpp"
#include "pipeline/node_status.hpp"
#include "transport/node_link.hpp"

namespace vigil {

cluster_metrics::cluster_metrics(const vigil_config& cfg, const std::string& role, std::shared_ptr<node_link> link,
                                 const std::vector<std::string>& peers, std::shared_ptr<const node_counters> counters,
                                 const std::vector<std::string>& agents)
  : registry_(std::make_shared<metrics_registry>()), fleet_(std::make_shared<fleet_tally>(peers, agents)) {
  using kind = metrics_registry::kind;
  auto& r = *registry_;
  r.describe("vigil_node_info", kind::gauge, "This node of the cluster: its name and role.");
  r.set("vigil_node_info", {{"node", cfg.node.name}, {"role", role}}, 1);
  r.describe("vigil_peer_up", kind::gauge, "1 while the peer is heard from (heartbeats), 0 once it is down.");
  for (const auto& p : peers) r.set("vigil_peer_up", {{"peer", p}}, 0);
  r.describe("vigil_cluster_sessions_total", kind::counter, "Sessions this node started or joined.");
  r.set("vigil_cluster_sessions_total", {}, 0);
  r.describe("vigil_cluster_rollbacks_total", kind::counter,
             "Times this node rolled back to the last complete checkpoint (a restart, a gap, a lost peer).");
  r.set("vigil_cluster_rollbacks_total", {}, 0);
  r.describe("vigil_frames_received_total", kind::counter, "Frames from peers that decoded and were taken.");
  r.describe("vigil_frames_dropped_total", kind::counter, "Frames dropped, by reason; none ever crashes the node.");
  r.describe("vigil_sinks_failing", kind::gauge,
             "Sinks whose writes are failing now (retried; the pipeline waits); /readyz is 503 meanwhile.");
  // The link counts on its own thread; read when scraped.
  r.on_render([link](metrics_registry& m) {
    m.set("vigil_sinks_failing", {}, static_cast<double>(failing_sinks()));
    const auto& c = link->counters();
    m.set("vigil_frames_received_total", {}, static_cast<double>(c.delivered.load()));
    m.set("vigil_frames_dropped_total", {{"reason", "malformed"}}, static_cast<double>(c.bad_frame.load()));
    m.set("vigil_frames_dropped_total", {{"reason", "other_version"}}, static_cast<double>(c.unsupported_version.load()));
    m.set("vigil_frames_dropped_total", {{"reason", "too_large"}}, static_cast<double>(c.too_large.load()));
    m.set("vigil_frames_dropped_total", {{"reason", "unknown_sender"}}, static_cast<double>(link->unknown_senders()));
    m.set("vigil_frames_dropped_total", {{"reason", "refused_key"}}, static_cast<double>(c.refused_peers.load()));
  });
  // An agent's sources and parse stages; an aggregator's windows, alerts,
  // checkpoints, sinks and their stages, and what each agent sends.
  if (counters) add_node_metrics(r, counters, node_metric_parts{role == "agent", role != "agent"});
  if (role == "aggregator") {
    r.describe("vigil_agent_events_total", kind::counter,
               "Events (or records) an agent's batches stood for, also when pre-aggregated, per agent.");
    r.describe("vigil_agent_batches_total", kind::counter, "Event batches taken from an agent, per agent.");
    r.describe("vigil_agent_bytes_total", kind::counter, "Bytes of event frames taken from an agent, per agent.");
    r.describe("vigil_agent_lag_bytes", kind::gauge,
               "Bytes written to an agent's source files and not read yet, summed over its sources (its heartbeats).");
    r.describe("vigil_agent_event_lag_seconds", kind::gauge,
               "Now minus the newest event time of an agent's stalest source (its heartbeats; 0 before any).");
    r.on_render([fleet = fleet_](metrics_registry& m) {
      for (const auto& t : fleet->all()) {
        if (!t->agent) continue;
        const metrics_registry::labels l{{"agent", t->name}};
        m.set("vigil_agent_events_total", l, static_cast<double>(t->events.load()));
        m.set("vigil_agent_batches_total", l, static_cast<double>(t->batches.load()));
        m.set("vigil_agent_bytes_total", l, static_cast<double>(t->bytes.load()));
        m.set("vigil_agent_lag_bytes", l, static_cast<double>(t->lag_bytes.load()));
        const int64_t newest = t->newest_event_ms;
        m.set("vigil_agent_event_lag_seconds", l,
              newest == INT64_MIN ? 0.0 : std::max(0.0, static_cast<double>(wall_clock_ms() - newest) / 1000.0));
      }
    });
  }
  add_process_metrics(r);
  if (cfg.node.http.empty()) return;
  // Ready: in a session, and every sink writing.
  auto unready = [ready = ready_]() -> std::string {
    if (!ready->load()) return "not in a session of the fleet";
    if (size_t n = failing_sinks()) return std::to_string(n) + " sink(s) failing to write";
    return "";
  };
  std::vector<http_page> pages;
  if (counters) {
    status_ = std::make_unique<node_status>(cfg.node.name, role, counters, unready, fleet_);
    pages = status_pages(*status_);
  }
  http_ = std::make_unique<http_endpoint>(cfg.node.http, registry_, unready, std::move(pages));
}

cluster_metrics::~cluster_metrics() {
  http_.reset();  // no page reads the status after this
  status_.reset();
}

void cluster_metrics::peer(const std::string& name, bool up) {
  registry_->set("vigil_peer_up", {{"peer", name}}, up ? 1 : 0);
  if (member_tally* t = fleet_->of(name)) t->up = up;
}
void cluster_metrics::session_started() { registry_->add("vigil_cluster_sessions_total", {}); }
void cluster_metrics::rolled_back() { registry_->add("vigil_cluster_rollbacks_total", {}); }
int cluster_metrics::port() const noexcept { return http_ ? http_->port() : 0; }

} // namespace vigil
