#include "pipeline/live_pipeline.hpp"

#include <atomic>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/alert_stage.hpp"
#include "actors/checkpoint_coordinator.hpp"
#include "actors/detect_stage.hpp"
#include "actors/enrich_stage.hpp"
#include "actors/file_source.hpp"
#include "actors/line_sink.hpp"
#include "actors/parse_stage.hpp"
#include "actors/stdin_source.hpp"
#include "actors/webhook_sink.hpp"
#include "actors/window_stage.hpp"
#include "messages/errc.hpp"
#include "messages/type_ids.hpp"
#include "parse/timestamp.hpp"
#include "pipeline/recovery.hpp"
#include "pipeline/system_config.hpp"
#include "rules/rule_engine.hpp"
#include "state/state_store.hpp"

namespace vigil {

namespace {

/// What this build runs of the contract's source and sink types; the
/// others pass check-config (they are the contract) but not `run`.
bool supported(const vigil_config& cfg) {
  bool ok = true;
  for (const auto& s : cfg.sources)
    if (s.type != source_type::file && s.type != source_type::stdin_stream) {
      std::cerr << "vigil run: source " << s.name << ": type " << to_string(s.type)
                << " is not supported by this build yet (file and stdin are)\n";
      ok = false;
    }
  for (const auto& s : cfg.sinks)
    if (s.type != sink_type::jsonl && s.type != sink_type::console && s.type != sink_type::webhook) {
      std::cerr << "vigil run: sink " << s.name << ": type " << to_string(s.type)
                << " is not supported by this build yet (console, jsonl and webhook are)\n";
      ok = false;
    }
  return ok;
}

line_sink_actor spawn_sink(caf::actor_system& sys, const sink_config& s,
                           const checkpoint_coordinator_actor& coordinator, int64_t truncate_to) {
  if (s.type == sink_type::webhook) {
    webhook_options http;
    http.url = s.url;
    http.timeout = s.timeout;
    http.max_attempts = s.max_attempts;
    http.queue_limit = s.queue_limit;
    return spawn_webhook_sink(sys, webhook_sink_config{s.name, http});
  }
  line_sink_config lc{s.name, s.type == sink_type::console ? "" : s.path, {}, -1};
  if (s.type == sink_type::jsonl) {
    lc.coordinator = coordinator;
    lc.truncate_to = truncate_to;
  }
  return spawn_line_sink(sys, lc);
}

/// How an alert sink wants its alerts (console: lines for people).
alert_output alert_output_of(const sink_config& s) {
  return {s.type == sink_type::console, s.group_wait.count(), s.repeat_interval.count()};
}

/// Waits for SIGINT/SIGTERM (blocked by the caller) or for `finished`.
/// True when a signal came.
bool wait_for_signal_or(const std::atomic<bool>& finished, const std::string& node) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const timespec step{0, 100 * 1000 * 1000};
  while (!finished) {
    int sig = sigtimedwait(&set, nullptr, &step);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("node {}: {} received, stopping", node, sig == SIGINT ? "SIGINT" : "SIGTERM");
      return true;
    }
  }
  return false;
}

} // namespace

int run_live(const vigil_config& cfg, const live_run_options& opts) {
  if (!supported(cfg)) return 2;
  std::string error;
  auto signatures = signature_matcher::builtin(error);
  if (!signatures) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }

  auto store = std::shared_ptr<state_store>(state_store::open(cfg.node.state_dir, error));
  if (!store) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  spdlog::debug("state: store {} open, {} ms after the process started", cfg.node.state_dir, process_uptime_ms());

  // What the stages need of the config, before anything runs: recovery
  // checks the checkpoint against it.
  window_stage_config wcfg;
  wcfg.windows = cfg.windows;
  for (const auto& w : cfg.windows) wcfg.watched.push_back(watched_metrics(cfg.rules, w.name));
  wcfg.label_names = dimension_fields(cfg.dimensions);
  std::vector<alert_output> alert_outputs;
  for (const auto& s : cfg.sinks)
    if (s.input == sink_input::alerts) alert_outputs.push_back(alert_output_of(s));
  recovered_state recovered;
  if (!recover(*store, cfg, wcfg, alert_outputs, recovered, error)) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  if (recovered.checkpoint != 0)
    spdlog::info("node {}: resuming from checkpoint {} in {} (loaded {} ms after the process started)",
                 cfg.node.name, recovered.checkpoint, cfg.node.state_dir, process_uptime_ms());

  system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  std::vector<caf::actor> all;  // to stop at the end

  checkpoint_coordinator_config ccfg;
  ccfg.store = store;
  ccfg.interval = cfg.node.checkpoint_interval;
  ccfg.participants = checkpoint_participants(cfg);
  ccfg.next_id = recovered.checkpoint + 1;
  auto coordinator = spawn_checkpoint_coordinator(sys, ccfg);
  all.push_back(caf::actor_cast<caf::actor>(coordinator));

  // Back to front: each stage is spawned knowing the next.
  alert_stage_config acfg;
  acfg.coordinator = coordinator;
  acfg.restored = recovered.alerts;
  for (const auto& s : cfg.sinks) {
    if (s.input == sink_input::records) {
      spdlog::warn("sink {}: input records is not produced by this build yet", s.name);
      continue;
    }
    auto length = recovered.sink_lengths.find(s.name);
    auto sink = spawn_sink(sys, s, coordinator, length != recovered.sink_lengths.end() ? length->second : -1);
    all.push_back(caf::actor_cast<caf::actor>(sink));
    switch (s.input) {
      case sink_input::alerts:
        acfg.outputs.push_back({sink, alert_output_of(s)});
        break;
      case sink_input::window: wcfg.window_sinks.emplace_back(s.window, sink); break;
      case sink_input::quarantine: wcfg.quarantine = sink; break;
      case sink_input::records: break;
    }
  }
  auto alerts = spawn_alert_stage(sys, acfg);
  auto detect = spawn_detect_stage(sys, detect_stage_config{cfg.node.name, cfg.rules, alerts, coordinator,
                                                            recovered.detect});
  wcfg.detect = detect;
  wcfg.coordinator = coordinator;
  for (const auto& s : cfg.sources) wcfg.sources.push_back(s.name);
  wcfg.restored = recovered.windows;
  auto windows = spawn_window_stage(sys, wcfg);
  for (const auto& a : {caf::actor_cast<caf::actor>(alerts), caf::actor_cast<caf::actor>(detect),
                        caf::actor_cast<caf::actor>(windows)})
    all.push_back(a);

  std::vector<source_actor> files, streams;  // streams: stdin
  for (const auto& s : cfg.sources) {
    // Chunks are spread over parse-and-enrich chains; the window stage puts
    // the batches back in read order. Duplicates must meet in one filter.
    const size_t workers = s.dedup_horizon.count() > 0 ? 1 : s.parse_workers;
    const auto filter = recovered.dedup.find(s.name);
    std::vector<parse_stage_actor> parse;
    for (size_t w = 0; w < workers; ++w) {
      auto enrich = spawn_enrich_stage(sys, enrich_stage_config{s.name, signatures, cfg.dimensions, windows});
      parser_options po;
      po.format = s.format;
      po.request_time_unit = s.request_time_unit;
      po.max_line_bytes = s.max_line_bytes;
      parse.push_back(
        spawn_parse_stage(sys, parse_stage_config{s.name, po, s.dedup_horizon.count(), enrich,
                                                  static_cast<bool>(wcfg.quarantine), coordinator,
                                                  filter != recovered.dedup.end() ? filter->second : nullptr}));
      all.push_back(caf::actor_cast<caf::actor>(enrich));
      all.push_back(caf::actor_cast<caf::actor>(parse.back()));
    }
    if (s.type == source_type::stdin_stream) {
      stdin_source_config scfg;
      scfg.name = s.name;
      scfg.format = s.format;
      scfg.max_line_bytes = s.max_line_bytes;
      scfg.next = parse;
      scfg.credit = 2 * workers;
      streams.push_back(spawn_stdin_source(sys, scfg));
      continue;
    }
    file_source_config fcfg;
    fcfg.name = s.name;
    fcfg.tail.pattern = s.path;
    // start_at applies to a first start only: after a checkpoint, a file it
    // does not know appeared since, and is read from its beginning.
    fcfg.tail.start_at_end = s.start_at == start_position::end && recovered.checkpoint == 0;
    fcfg.tail.max_line_bytes = s.max_line_bytes;
    fcfg.format = s.format;
    fcfg.next = parse;
    fcfg.credit = 2 * workers;
    if (auto it = recovered.sources.find(s.name); it != recovered.sources.end()) fcfg.resume = it->second;
    files.push_back(spawn_file_source(sys, fcfg));
  }
  {
    std::vector<source_actor> sources = files;
    sources.insert(sources.end(), streams.begin(), streams.end());
    caf::anon_send(coordinator, run_atom_v, std::move(sources));
  }
  spdlog::info("node {}: {} sources, {} dimension tables, {} windows, {} rules, {} sinks", cfg.node.name,
               cfg.sources.size(), cfg.dimensions.size(), cfg.windows.size(), cfg.rules.size(),
               cfg.sinks.size());

  // A finite run (--once, or stdin alone) ends when its input does; any
  // other runs until a signal. Either way a signal stops it cleanly.
  const bool finite = opts.once || files.empty();
  std::atomic<bool> finished{false};
  std::atomic<int> rc{0};
  auto fail = [&](caf::error& err) {
    std::cerr << "vigil run: " << sys.render(err) << "\n";
    rc = 1;
  };
  std::thread reader([&] {
    caf::scoped_actor self{sys};
    if (finite) {
      for (auto& src : files) self->request(src, caf::infinite, run_atom_v).receive([](uint64_t) {}, fail);
    } else {
      for (auto& src : files) caf::anon_send(src, tick_atom_v);
    }
    for (auto& src : streams) self->request(src, caf::infinite, run_atom_v).receive([](uint64_t) {}, fail);
    if (finite) finished = true;
  });
  const bool signalled = wait_for_signal_or(finished, cfg.node.name);
  if (signalled) {
    caf::scoped_actor self{sys};
    for (auto* list : {&files, &streams})
      for (auto& src : *list) self->request(src, caf::infinite, stop_atom_v).receive([](uint64_t) {}, fail);
  }
  reader.join();
  {
    // A signal: everything read went through; a final checkpoint, so a
    // restart replays nothing. The end of the input: no checkpoint after
    // the windows close below (they would be closed for the next run too).
    caf::scoped_actor self{sys};
    self->request(coordinator, caf::infinite, stop_atom_v, signalled)
      .receive(
        [&](uint64_t id) {
          if (signalled && id != 0) spdlog::info("node {}: final checkpoint {} written", cfg.node.name, id);
        },
        fail);
  }

  // The input is complete when the run ended by itself: every window
  // closes. A signal does not close them: open windows belong to the next
  // run, which resumes them from the final checkpoint.
  caf::scoped_actor self{sys};
  self->request(windows, caf::infinite, flush_atom_v, !signalled).receive([](bool) {}, fail);
  for (auto* list : {&files, &streams})
    for (auto& src : *list) caf::anon_send_exit(src, caf::exit_reason::user_shutdown);
  for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return rc;
}

} // namespace vigil
