#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/checkpoint_coordinator.hpp"
#include "actors/parse_stage.hpp"
#include "actors/window_stage.hpp"
#include "alerting/alert_board.hpp"
#include "db/database_sink.hpp"
#include "db/db_writer.hpp"
#include "metrics/stage_tally.hpp"
#include "notify/webhook_sender.hpp"
#include "record/record_pipeline.hpp"
#include "settings/config.hpp"

namespace vigil {

/// Sinks that count into the stage graph: files, the console and
/// databases (the HTTP and ZeroMQ sinks have their own delivery counts).
inline bool counted_sink(const sink_config& s) {
  return s.type == sink_type::console || s.type == sink_type::jsonl || s.type == sink_type::csv ||
         is_database_sink(s);
}

/// What a node counts as it runs: written by the stages that count (each
/// piece is thread-safe), read by its HTTP port (`/metrics`, the dashboard,
/// `/readyz`).
struct node_counters {
  std::shared_ptr<source_tallies> sources = std::make_shared<source_tallies>();
  std::shared_ptr<checkpoint_tally> checkpoints = std::make_shared<checkpoint_tally>();
  std::shared_ptr<alert_board> alerts = std::make_shared<alert_board>();
  std::vector<std::shared_ptr<window_tally>> windows;                 ///< one per window, in order
  std::map<std::string, std::shared_ptr<webhook_stats>> sinks;        ///< webhook and Alertmanager sinks
  std::map<std::string, std::shared_ptr<db_sink_stats>> databases;    ///< sqlite and postgres sinks
  std::shared_ptr<stage_tallies> stages = std::make_shared<stage_tallies>();  ///< parse:SOURCE, windows, sink:NAME, ...
  std::shared_ptr<lookup_tables> lookups;                             ///< the node's, once loaded
  std::vector<std::string> lookup_names;                              ///< in config order

  /// A tally for each source, window and HTTP sink of `cfg`. `parses`:
  /// the node parses its sources (an aggregator gets its agents' batches).
  static std::shared_ptr<node_counters> of(const vigil_config& cfg, bool parses = true) {
    auto c = std::make_shared<node_counters>();
    for (const auto& s : cfg.sources) {
      auto t = c->sources->of(s.name);
      t->has_schema = !s.schema.empty();
      t->is_http = s.type == source_type::http;
      t->is_zmq = s.type == source_type::zmq;
      for (const auto& schema : cfg.schemas)
        if (schema.name == s.schema) {
          std::vector<std::string> names;
          for (const auto& f : schema.fields) names.push_back(f.name);
          t->records.count_fields(std::move(names));
        }
    }
    for (const auto& l : cfg.lookups) c->lookup_names.push_back(l.name);
    // The stage graph in pipeline order.
    for (const auto& s : cfg.sources) {
      if (!parses) break;
      c->stages->of("parse:" + s.name);
      c->stages->of("enrich:" + s.name);
    }
    for (const char* stage : {"windows", "detect", "alerts"}) c->stages->of(stage);
    for (const auto& s : cfg.sinks)
      if (counted_sink(s)) c->stages->of("sink:" + s.name);
    for (const auto& w : cfg.windows) {
      auto t = std::make_shared<window_tally>(w.name);
      // What the dashboard plots of each closed instance (a keyed window:
      // its groups ranked by the first).
      t->keyed = !w.group_by.empty();
      for (const auto& [name, expr] : w.metrics) t->names.push_back(name);
      if (w.metrics.empty())
        t->names = t->keyed ? std::vector<std::string>{"requests", "status_4xx", "status_5xx", "probes", "latency_p99"}
                            : std::vector<std::string>{"requests", "status_5xx", "error_rate", "latency_p99"};
      // And what its detectors make of it.
      for (const auto& d : cfg.detectors)
        if (d.window == w.name) t->names.push_back("anomaly_score_" + d.metric);
      c->windows.push_back(std::move(t));
    }
    for (const auto& s : cfg.sinks)
      if (s.type == sink_type::webhook || s.type == sink_type::alertmanager)
        c->sinks[s.name] = std::make_shared<webhook_stats>();
      else if (is_database_sink(s))
        c->databases[s.name] = std::make_shared<db_sink_stats>();
    return c;
  }
};

} // namespace vigil
