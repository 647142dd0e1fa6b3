#include "pipeline/live_pipeline.hpp"

#include <atomic>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/line_sink.hpp"
#include "dimension/dimension_tables.hpp"
#include "ingest/http_ingest.hpp"
#include "ingest/zmq_ingest.hpp"
#include "record/record_pipeline.hpp"
#include "messages/errc.hpp"
#include "messages/type_ids.hpp"
#include "parse/timestamp.hpp"
#include "pipeline/actor_watchdog.hpp"
#include "pipeline/node_counters.hpp"
#include "pipeline/node_http.hpp"
#include "pipeline/node_stages.hpp"
#include "pipeline/recovery.hpp"
#include "pipeline/sink_preflight.hpp"
#include "pipeline/store_failure.hpp"
#include "pipeline/stop_signal.hpp"
#include "pipeline/system_config.hpp"
#include "state/state_store.hpp"
#include "tail/source_access.hpp"

namespace vigil {

namespace {

/// Waits for SIGINT/SIGTERM, for `finished` or for the store to fail. True
/// when a signal came.
bool wait_for_signal_or(const std::atomic<bool>& finished, const store_failure& store, const std::string& node) {
  while (!finished && !store.failed()) {
    if (int sig = take_stop_signal(std::chrono::milliseconds(100))) {
      spdlog::info("node {}: {} received, stopping", node, stop_signal_name(sig));
      return true;
    }
  }
  return false;
}

zmq_ingest_options zmq_options_of(const source_config& s, std::shared_ptr<source_tally> tally) {
  zmq_ingest_options o;
  o.source = s.name;
  o.endpoint = s.endpoint;
  o.subscriber = s.subscriber;
  o.bind = s.zmq.bind;
  o.curve = s.zmq.keys;
  o.topics = s.topics;
  o.encoding = s.msgpack ? frame_encoding::msgpack : frame_encoding::json;
  o.max_frame_bytes = s.max_frame_bytes;
  o.tally = std::move(tally);
  return o;
}

} // namespace

int run_live(const vigil_config& cfg, const live_run_options& opts) {
  std::string error;
  if (!sinks_can_open(cfg, error)) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  // --once reads what is there: a source with nothing to read is a mistake
  // (a live run waits for files to appear, and says so).
  if (opts.once)
    for (const auto& s : cfg.sources) {
      if (s.type == source_type::http || s.type == source_type::zmq) {
        std::cerr << "vigil run: source " << s.name << ": an " << to_string(s.type)
                  << " source has no end: --once cannot finish it\n";
        return 2;
      }
      if (s.type == source_type::file)
        if (std::string problem = source_access_problem(s.path); !problem.empty()) {
          std::cerr << "vigil run: source " << s.name << ": " << problem << ": --once has nothing to read\n";
          return 1;
        }
    }
  auto signatures = signature_matcher::builtin(error);
  if (!signatures) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }

  auto store = std::shared_ptr<state_store>(state_store::open(cfg.node.state_dir, error));
  // A full disk at start is waited out, as it is while running.
  // (Tried again after 1 s, 2 s, ... 30 s: each try is a page of RocksDB's.)
  for (auto wait = std::chrono::milliseconds(1000); !store && is_no_space(error);
       wait = std::min(wait * 2, std::chrono::milliseconds(30000))) {
    if (wait.count() == 1000)
      spdlog::error("node {}: state dir {} is full: waiting for room to open it ({})", cfg.node.name,
                    cfg.node.state_dir, error);
    if (take_stop_signal(wait)) return 1;
    store.reset(state_store::open(cfg.node.state_dir, error).release());
  }
  if (!store) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  spdlog::debug("state: store {} open, {} ms after the process started", cfg.node.state_dir, process_uptime_ms());

  stage_plan plan = plan_stages(cfg);
  recovered_state recovered;
  if (!recover(*store, cfg, plan.windows, plan.alert_outputs, recovered, error)) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  if (recovered.checkpoint != 0)
    spdlog::info("node {}: resuming from checkpoint {} in {} (loaded {} ms after the process started)",
                 cfg.node.name, recovered.checkpoint, cfg.node.state_dir, process_uptime_ms());

  // The HTTP port opens before any input is read: one that cannot is a
  // start-up failure, like a sink that cannot open.
  auto counters = node_counters::of(cfg);
  // Lookup tables load before the HTTP port serves them.
  auto lookups = cfg.lookups.empty() ? nullptr : load_lookup_tables(cfg.lookups);
  counters->lookups = lookups;
  std::unique_ptr<node_http> http;
  try {
    http = std::make_unique<node_http>(cfg, counters);
  } catch (const std::runtime_error& ex) {
    std::cerr << "vigil run: " << ex.what() << "\n";
    return 1;
  }
  if (http->port() > 0)
    spdlog::info("node {}: dashboard on http://{}/ (and /metrics, /healthz, /readyz)", cfg.node.name, cfg.node.http);

  system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  store_failure failure;
  stage_options options;
  options.store_failed = [&failure](const std::string& e) { failure.set(e); };
  auto intake_paused = std::make_shared<std::atomic<bool>>(false);
  options.intake_paused = intake_paused;
  // HTTP sources acknowledge with ack = "checkpoint" once one is stored.
  auto push_sources = std::make_shared<std::vector<push_source_actor>>();
  options.stored = [push_sources](uint64_t id) {
    for (const auto& src : *push_sources) caf::anon_send(src, checkpoint_atom_v, id, true);
  };
  options.counters = counters;
  node_stages stages = spawn_node_stages(sys, cfg, std::move(plan), store, recovered, options);
  auto coordinator = stages.coordinator;
  auto windows = stages.windows;
  std::vector<caf::actor> all = stages.all;  // to stop at the end

  std::vector<source_actor> files, streams;  // streams: stdin
  auto dimensions = std::make_shared<dimension_tables>(cfg.dimensions);

  std::vector<std::unique_ptr<http_ingest_server>> ingest_servers;
  std::vector<std::unique_ptr<zmq_ingest>> zmq_sockets;
  std::string ingest_error;
  auto on_push = [&](const source_config& s, const push_source_actor& src) {
    push_sources->push_back(src);
    if (s.type == source_type::zmq) {
      try {
        zmq_sockets.push_back(std::make_unique<zmq_ingest>(sys, src, zmq_options_of(s, counters->sources->of(s.name))));
      } catch (const std::runtime_error& ex) {
        ingest_error = ex.what();
      }
      return;
    }
    http_ingest_options o{s.name, s.listen, s.max_body_bytes, s.bearer_token, std::chrono::milliseconds(30000),
                          counters->sources->of(s.name)};
    try {
      ingest_servers.push_back(std::make_unique<http_ingest_server>(sys, src, o));
    } catch (const std::runtime_error& ex) {
      ingest_error = ex.what();
    }
    const std::string host = s.listen.substr(0, s.listen.rfind(':'));
    if (s.bearer_token.empty() && host != "127.0.0.1" && host != "localhost" && host != "::1")
      spdlog::warn("source {}: listening on {} without a bearer_token: anyone who reaches it can send events",
                   s.name, s.listen);
  };
  for (const auto& s : cfg.sources) {
    source_inputs in{signatures, dimensions, windows, stages.has_quarantine, coordinator, recovered, counters->sources,
                     &cfg, lookups, on_push, stages.record_formats, counters->stages, stages.has_attack_sinks,
                     intake_paused};
    auto src = spawn_source(sys, s, in, all);
    (s.type == source_type::stdin_stream ? streams : files).push_back(src);
  }
  if (!ingest_error.empty()) {
    std::cerr << "vigil run: " << ingest_error << "\n";
    for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    for (auto& f : files) caf::anon_send_exit(f, caf::exit_reason::user_shutdown);
    return 1;
  }
  caf::actor watchdog;
  {
    std::vector<source_actor> sources = files;
    sources.insert(sources.end(), streams.begin(), streams.end());
    std::vector<caf::actor> watched = all;
    for (const auto& src : sources) watched.push_back(caf::actor_cast<caf::actor>(src));
    watchdog = watch_actors(sys, std::move(watched), cfg.node.name);
    caf::anon_send(coordinator, run_atom_v, std::move(sources));
  }
  http->started();
  spdlog::info("node {}: {} sources, {} dimension tables, {} windows, {} rules, {} detectors, {} sinks", cfg.node.name,
               cfg.sources.size(), cfg.dimensions.size(), cfg.windows.size(), cfg.rules.size(),
               cfg.detectors.size(), cfg.sinks.size());

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
  const bool signalled = wait_for_signal_or(finished, failure, cfg.node.name);
  if (failure.failed()) {
    // Results written since the last complete checkpoint cannot be
    // checkpointed: stop, and let the next start cut them back and replay
    // them, as after a crash. Nothing is lost; nothing is counted twice.
    spdlog::error("{}", store_failure_message(cfg.node.name, failure.error()));
    give_up_failing_writes();  // a sink on the same full disk would wait forever
    caf::scoped_actor self{sys};
    for (auto* list : {&files, &streams})
      for (auto& src : *list) self->request(src, caf::infinite, stop_atom_v).receive([](uint64_t) {}, [](caf::error&) {});
    reader.join();
    for (auto* list : {&files, &streams})
      for (auto& src : *list) caf::anon_send_exit(src, caf::exit_reason::user_shutdown);
    for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    return 1;
  }
  if (signalled) {
    ingest_servers.clear();  // no new pushed events: what was taken goes through
    zmq_sockets.clear();
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
