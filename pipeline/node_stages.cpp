#include "pipeline/node_stages.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

#include "actors/alert_stage.hpp"
#include "actors/alertmanager_sink.hpp"
#include "actors/db_sink.hpp"
#include "actors/checkpoint_coordinator.hpp"
#include "actors/detect_stage.hpp"
#include "actors/enrich_stage.hpp"
#include "actors/file_source.hpp"
#include "actors/push_source.hpp"
#include "actors/line_sink.hpp"
#include "actors/parse_stage.hpp"
#include "actors/stdin_source.hpp"
#include "actors/webhook_sink.hpp"
#include "actors/zmq_sink.hpp"
#include "csv/csv.hpp"
#include "db/database_sink.hpp"
#include "record/record_pipeline.hpp"
#include "pipeline/node_counters.hpp"
#include "rules/rule_engine.hpp"

namespace vigil {

namespace {

line_sink_actor spawn_sink(caf::actor_system& sys, const vigil_config& cfg, const sink_config& s,
                           const checkpoint_coordinator_actor& coordinator, sink_position resume,
                           const line_sink_actor& quarantine, const std::shared_ptr<stage_tally>& tally,
                           const stage_options& options) {
  if (s.type == sink_type::webhook || s.type == sink_type::alertmanager) {
    webhook_options http;
    http.url = s.url;
    http.timeout = s.timeout;
    http.max_attempts = s.max_attempts;
    http.queue_limit = s.queue_limit;
    if (options.counters)
      if (auto it = options.counters->sinks.find(s.name); it != options.counters->sinks.end()) http.stats = it->second;
    if (s.type == sink_type::webhook) return spawn_webhook_sink(sys, webhook_sink_config{s.name, http});
    alertmanager_sink_config am{s.name, http, {}, {}};
    am.format.resend_interval_ms = s.resend_interval.count();
    if (!cfg.node.http.empty()) am.format.generator_url = "http://" + cfg.node.http + "/";
    return spawn_alertmanager_sink(sys, am);
  }
  if (s.type == sink_type::zmq) {
    return spawn_zmq_sink(sys, zmq_sink_config{s.name, s.url, s.zmq.bind, s.zmq.keys});
  }
  if (is_database_sink(s)) {
    db_sink_config dc;
    dc.name = s.name;
    dc.window_results = s.input == sink_input::window;
    dc.spec = database_table(cfg, s);
    dc.make_writer = [spec = dc.spec, s, node = cfg.node.name] {
      return make_database_writer(s, spec, node);
    };
    dc.coordinator = coordinator;
    dc.resume = resume.length;
    dc.batch_rows = s.batch_rows;
    dc.flush_interval = s.flush_interval;
    dc.quarantine = quarantine;
    dc.stage = tally;
    if (options.counters)
      if (auto it = options.counters->databases.find(s.name); it != options.counters->databases.end())
        dc.stats = it->second;
    return spawn_db_sink(sys, std::move(dc));
  }
  line_sink_config lc;
  lc.name = s.name;
  lc.stage = tally;
  lc.path = s.type == sink_type::console ? "" : s.path;
  if (s.type == sink_type::csv) {
    const auto layout = record_layout::of(cfg);
    for (const auto& c : record_columns(s, layout)) {
      if (!lc.header.empty()) lc.header += ',';
      append_csv_field(lc.header, layout.fields()[c].name);
    }
  }
  if (s.type == sink_type::jsonl || s.type == sink_type::csv) {
    lc.coordinator = coordinator;
    lc.resume = resume;
    lc.rotate_bytes = s.rotate_bytes;
    lc.rotate_every = s.rotate_every;
    lc.max_bytes = s.max_bytes;
    if (s.input == sink_input::quarantine)  // the window stage and each database sink's copies
      lc.barrier_inputs = 1 + static_cast<size_t>(std::count_if(cfg.sinks.begin(), cfg.sinks.end(), is_database_sink));
  }
  return spawn_line_sink(sys, lc);
}

/// How an alert sink wants its alerts (console: lines for people).
/// Alertmanager gets still-firing alerts every resend interval: it resolves
/// an alert it has not heard of by its endsAt.
alert_output alert_output_of(const sink_config& s) {
  const auto repeat = s.type == sink_type::alertmanager ? s.resend_interval : s.repeat_interval;
  return {s.type == sink_type::console, s.group_wait.count(), repeat.count()};
}

} // namespace

stage_plan plan_stages(const vigil_config& cfg) {
  stage_plan plan;
  plan.windows.windows = cfg.windows;
  for (const auto& w : cfg.windows) plan.windows.watched.push_back(watched_metrics(cfg.rules, cfg.detectors, w.name));
  plan.windows.detectors = cfg.detectors;
  plan.windows.label_names = dimension_fields(cfg.dimensions);
  if (!cfg.schemas.empty()) plan.windows.records = std::make_shared<const record_layout>(record_layout::of(cfg));
  plan.windows.part = partition_of_node(cfg);
  for (const auto& s : cfg.sources) plan.windows.sources.push_back(s.name);
  for (const auto& s : cfg.sinks)
    if (s.input == sink_input::alerts) plan.alert_outputs.push_back(alert_output_of(s));
  return plan;
}

node_stages spawn_node_stages(caf::actor_system& sys, const vigil_config& cfg, stage_plan plan,
                              const std::shared_ptr<state_store>& store, const recovered_state& recovered,
                              const stage_options& options) {
  node_stages out;
  window_stage_config& wcfg = plan.windows;
  checkpoint_coordinator_config ccfg;
  ccfg.store = store;
  ccfg.interval = cfg.node.checkpoint_interval;
  ccfg.participants = checkpoint_participants(cfg);
  ccfg.next_id = recovered.checkpoint + 1;
  ccfg.follows = options.follows;
  ccfg.stored = options.stored;
  ccfg.store_failed = options.store_failed;
  ccfg.intake_paused = options.intake_paused;
  if (options.counters) ccfg.tally = options.counters->checkpoints;
  auto coordinator = spawn_checkpoint_coordinator(sys, ccfg);
  out.all.push_back(caf::actor_cast<caf::actor>(coordinator));

  // Back to front: each stage is spawned knowing the next.
  alert_stage_config acfg;
  acfg.coordinator = coordinator;
  acfg.restored = recovered.alerts;
  // The stage graph's tallies, in pipeline order (sources first, at spawn_source).
  auto stage = [&](const std::string& name) {
    return options.counters ? options.counters->stages->of(name) : nullptr;
  };
  if (options.counters) {
    acfg.board = options.counters->alerts;
    wcfg.tallies = options.counters->windows;
  }
  wcfg.stage = stage("windows");
  auto detect_tally = stage("detect");
  acfg.stage = stage("alerts");
  if (wcfg.records) out.record_formats = record_line_formats(cfg, *wcfg.records);
  const auto& record_formats = out.record_formats;
  // The quarantine sink first: database sinks copy the rows their
  // database refuses into it.
  std::vector<const sink_config*> in_order;
  for (const auto& s : cfg.sinks)
    if (s.input == sink_input::quarantine) in_order.push_back(&s);
  for (const auto& s : cfg.sinks)
    if (s.input != sink_input::quarantine) in_order.push_back(&s);
  line_sink_actor quarantine;
  for (const sink_config* sp : in_order) {
    const sink_config& s = *sp;
    auto at = recovered.sink_positions.find(s.name);
    auto sink = spawn_sink(sys, cfg, s, coordinator, at != recovered.sink_positions.end() ? at->second : sink_position{},
                           quarantine, counted_sink(s) ? stage("sink:" + s.name) : nullptr, options);
    if (s.input == sink_input::quarantine) quarantine = sink;
    out.all.push_back(caf::actor_cast<caf::actor>(sink));
    switch (s.input) {
      case sink_input::alerts:
        acfg.outputs.push_back({sink, alert_output_of(s)});
        break;
      case sink_input::window: wcfg.window_sinks.emplace_back(s.window, sink); break;
      case sink_input::quarantine: wcfg.quarantine = sink; break;
      case sink_input::attacks: wcfg.attack_sinks.push_back(sink); break;
      case sink_input::records: {
        // The same formats, in the same order, as the parse stages format.
        const size_t k = wcfg.record_sinks.size();
        wcfg.record_sinks.push_back({sink, k < record_formats.size() ? record_formats[k] : record_line_format{}});
        break;
      }
    }
  }
  auto alerts = spawn_alert_stage(sys, acfg);
  auto detect = spawn_detect_stage(sys, detect_stage_config{cfg.node.name, cfg.rules, cfg.detectors, alerts, coordinator,
                                                            recovered.detect, detect_tally});
  wcfg.detect = detect;
  wcfg.coordinator = coordinator;
  wcfg.checkpoint_in_pieces = true;  // this coordinator streams them to its store
  wcfg.restored = recovered.windows;
  wcfg.restored_detectors = recovered.detectors;
  out.has_quarantine = static_cast<bool>(wcfg.quarantine);
  out.has_attack_sinks = !wcfg.attack_sinks.empty();
  auto windows = spawn_window_stage(sys, wcfg);
  for (const auto& a : {caf::actor_cast<caf::actor>(alerts), caf::actor_cast<caf::actor>(detect),
                        caf::actor_cast<caf::actor>(windows)})
    out.all.push_back(a);
  out.coordinator = coordinator;
  out.windows = windows;
  return out;
}

source_actor spawn_source(caf::actor_system& sys, const source_config& s, const source_inputs& in,
                          std::vector<caf::actor>& all) {
  // Chunks are spread over parse-and-enrich chains; the window stage puts
  // the batches back in read order. Duplicates must meet in one filter.
  const size_t workers = s.dedup_horizon.count() > 0 ? 1 : s.parse_workers;
  std::shared_ptr<const record_plan> records;
  if (!s.schema.empty()) {
    std::string error;
    auto plan = record_plan::make(*in.config, s, error);
    if (!plan) throw std::runtime_error(error);  // check-config reports it first
    plan->outputs = in.record_formats;
    records = std::make_shared<const record_plan>(std::move(*plan));
  }
  const auto filter = in.recovered.dedup.find(s.name);
  std::vector<parse_stage_actor> parse;
  auto tally = in.tallies ? in.tallies->of(s.name) : std::make_shared<source_tally>(s.name);
  for (size_t w = 0; w < workers; ++w) {
    auto enrich = spawn_enrich_stage(sys, enrich_stage_config{s.name, in.signatures, in.dimensions, in.next,
                                                              in.stages ? in.stages->of("enrich:" + s.name) : nullptr,
                                                              in.attacks});
    parser_options po;
    po.format = s.format;
    po.request_time_unit = s.request_time_unit;
    po.max_line_bytes = s.max_line_bytes;
    parse_stage_config pcfg{s.name, po, s.dedup_horizon.count(), enrich, in.quarantine, in.coordinator,
                            filter != in.recovered.dedup.end() ? filter->second : nullptr, tally, records,
                            in.lookups, in.stages ? in.stages->of("parse:" + s.name) : nullptr};
    pcfg.max_future_ms = s.max_future.count();
    parse.push_back(spawn_parse_stage(sys, pcfg));
    all.push_back(caf::actor_cast<caf::actor>(enrich));
    all.push_back(caf::actor_cast<caf::actor>(parse.back()));
  }
  if (s.type == source_type::http || s.type == source_type::zmq) {
    push_source_config hcfg;
    hcfg.name = s.name;
    hcfg.origin = to_string(s.type);
    hcfg.next = parse;
    hcfg.credit = 2 * workers;
    hcfg.ack_checkpoint = s.ack_checkpoint;
    // A ZeroMQ socket acknowledges nothing: its next messages are read
    // while these are parsed, and the credit still bounds what is held.
    hcfg.reply_when_sent = s.type == source_type::zmq;
    hcfg.paused = in.intake_paused;
    auto src = spawn_push_source(sys, hcfg);
    if (in.on_push) in.on_push(s, src);
    return caf::actor_cast<source_actor>(src);
  }
  if (s.type == source_type::stdin_stream) {
    stdin_source_config scfg;
    scfg.name = s.name;
    scfg.format = s.format;
    scfg.max_line_bytes = s.max_line_bytes;
    scfg.next = parse;
    scfg.credit = 2 * workers;
    return spawn_stdin_source(sys, scfg);
  }
  file_source_config fcfg;
  fcfg.name = s.name;
  fcfg.tail.pattern = s.path;
  // start_at applies to a first start only: after a checkpoint, a file it
  // does not know appeared since, and is read from its beginning.
  fcfg.tail.start_at_end = s.start_at == start_position::end && in.recovered.checkpoint == 0;
  fcfg.tail.max_line_bytes = s.max_line_bytes;
  fcfg.format = s.format;
  fcfg.next = parse;
  fcfg.credit = 2 * workers;
  if (auto it = in.recovered.sources.find(s.name); it != in.recovered.sources.end()) fcfg.resume = it->second;
  fcfg.tally = tally;
  fcfg.paused = in.intake_paused;
  return spawn_file_source(sys, fcfg);
}

} // namespace vigil
