#include <algorithm>
#include <iostream>
#include <map>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "actors/checkpoint_relay.hpp"
#include "actors/enrich_stage.hpp"
#include "actors/uplink.hpp"
#include "messages/cluster_message.hpp"
#include "messages/type_ids.hpp"
#include "pipeline/cluster_metrics.hpp"
#include "pipeline/node_counters.hpp"
#include "pipeline/cluster_node.hpp"
#include "dimension/dimension_tables.hpp"
#include "pipeline/node_stages.hpp"
#include "record/record_pipeline.hpp"
#include "pipeline/stop_signal.hpp"
#include "pipeline/system_config.hpp"
#include "state/state_codec.hpp"
#include "transport/peer_table.hpp"

namespace vigil {

namespace {

using clock = std::chrono::steady_clock;

/// The agent's pipeline in one session of the aggregator.
struct agent_session {
  uint64_t epoch = 0;
  std::unique_ptr<system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  uplink_actor uplink;
  checkpoint_relay_actor relay;
  std::vector<caf::actor> all;

  ~agent_session() {
    for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    all.clear();
    uplink = nullptr;
    relay = nullptr;
    sys.reset();  // waits for every actor to finish
  }
};

/// The agent's state in `resume`: its parts of the aggregator's checkpoint.
recovered_state restored_from(const vigil_config& cfg, const resume_message& resume) {
  recovered_state r;
  r.checkpoint = resume.checkpoint;
  for (const auto& p : resume.parts) {
    const bool known = std::any_of(cfg.sources.begin(), cfg.sources.end(), [&](const source_config& s) {
      return p.participant.substr(p.participant.find(':') + 1) == s.name;
    });
    if (!known || !restore_source_part(cfg, state_part{resume.checkpoint, state_kind::source, p.participant, p.bytes}, r))
      throw state_decode_error("part " + p.participant + " is not one of this agent's sources");
  }
  return r;
}

std::unique_ptr<agent_session> start_session(const vigil_config& cfg, const cluster_run_options& opts,
                                             const std::shared_ptr<node_link>& link,
                                             const std::vector<std::string>& aggregators,
                                             const std::shared_ptr<const signature_matcher>& signatures,
                                             const std::shared_ptr<lookup_tables>& lookups,
                                             const resume_message& resume, uint64_t incarnation,
                                             const std::shared_ptr<node_counters>& counters) {
  const recovered_state restored = restored_from(cfg, resume);
  auto s = std::make_unique<agent_session>();
  s->epoch = resume.epoch;
  s->sys_cfg = std::make_unique<system_config>();
  s->sys = std::make_unique<caf::actor_system>(*s->sys_cfg);
  auto& sys = *s->sys;
  s->uplink = spawn_uplink(sys, uplink_config{link, aggregators, resume.epoch, cfg.cluster.pre_aggregate, cfg.windows,
                                              dimension_fields(cfg.dimensions)});
  checkpoint_relay_config rcfg{link, aggregators.front(), resume.epoch, {}};
  for (const auto& src : cfg.sources) rcfg.sources.push_back(src.name);
  s->relay = spawn_checkpoint_relay(sys, rcfg);
  s->all.push_back(caf::actor_cast<caf::actor>(s->uplink));
  s->all.push_back(caf::actor_cast<caf::actor>(s->relay));
  // Quarantine records always ride along: the aggregator's sinks decide.
  // The ETL job's records are made here, lookups joined here: the
  // aggregator gets records, as a single node's window stage does.
  source_inputs in{signatures, std::make_shared<dimension_tables>(cfg.dimensions), s->uplink, true, s->relay, restored,
                   counters->sources, &cfg, lookups};
  in.stages = counters->stages;
  std::vector<source_actor> sources;
  for (const auto& src : cfg.sources) {
    sources.push_back(spawn_source(sys, src, in, s->all));
    s->all.push_back(caf::actor_cast<caf::actor>(sources.back()));
  }
  caf::anon_send(s->relay, run_atom_v, sources);
  // Before any batch (one connection keeps the order): each aggregator
  // learns that this process joined, so its restart is known for one.
  for (const auto& a : aggregators)
    link->send(a, frame_type::heartbeat, encode(heartbeat_message{resume.epoch, incarnation, {}}));
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!opts.once) {
      caf::anon_send(sources[i], tick_atom_v);
      continue;
    }
    // Read to the end, then say so (the reply comes once every batch read
    // was acked by the aggregator).
    auto watcher = sys.spawn([](caf::event_based_actor* self, source_actor src, uplink_actor up, std::string name) {
      self->request(src, caf::infinite, run_atom_v).then([=](uint64_t) { self->send(up, end_atom_v, name); });
    }, sources[i], s->uplink, cfg.sources[i].name);
    s->all.push_back(watcher);
  }
  spdlog::info("agent {}: joined session {:016x} of {} from checkpoint {}, {} sources", cfg.node.name, resume.epoch,
               aggregators.front(), resume.checkpoint, sources.size());
  return s;
}

} // namespace

int run_agent(const vigil_config& cfg, const cluster_run_options& opts) {
  // The first aggregator leads: it says where to resume, and starts the
  // checkpoints. The others each say they are ready for its session.
  const std::vector<std::string> aggregators = aggregator_names(cfg.cluster);
  const std::string& leader = aggregators.front();
  std::string error;
  auto signatures = signature_matcher::builtin(error);
  if (!signatures) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  // Loaded once: every session of the aggregator shares the tables (and their reloads).
  auto lookups = cfg.lookups.empty() ? nullptr : load_lookup_tables(cfg.lookups);
  std::shared_ptr<node_link> link;
  try {
    link = open_node_link(cfg.cluster, cfg.node.name, aggregators);
  } catch (const std::exception& ex) {
    std::cerr << "vigil run: agent " << cfg.node.name << ": " << ex.what() << "\n";
    return 1;
  }
  const uint64_t incarnation = random_id();
  hello_message hello{incarnation, {}};
  for (const auto& s : cfg.sources) hello.sources.push_back(s.name);
  spdlog::info("agent {}: listening on {}, aggregators {}, {} sources", cfg.node.name, link->endpoint(),
               fmt::join(aggregators, ", "), cfg.sources.size());

  std::unique_ptr<cluster_metrics> metrics;
  auto counters = node_counters::of(cfg);
  try {
    metrics = std::make_unique<cluster_metrics>(cfg, "agent", link, aggregators, counters);
  } catch (const std::exception& ex) {
    std::cerr << "vigil run: agent " << cfg.node.name << ": " << ex.what() << "\n";
    return 1;
  }
  peer_table peers(aggregators, opts.down_after);
  std::unique_ptr<agent_session> session;
  std::optional<resume_message> pending;    // the leader's, until every aggregator is ready for it
  std::map<std::string, uint64_t> ready;    // by aggregator: the session it is ready for
  uint64_t waiting_for = 0;                 // the pending session, once its wait was logged
  auto last_hello = clock::time_point{};
  auto last_beat = clock::time_point{};
  while (true) {
    if (int sig = take_stop_signal()) {
      spdlog::info("agent {}: {} received, stopping", cfg.node.name, stop_signal_name(sig));
      break;
    }
    const auto now = clock::now();
    if (!session && now - last_hello >= std::chrono::seconds(1)) {
      link->send(leader, frame_type::hello, encode(hello), std::chrono::milliseconds(0));
      last_hello = now;
    }
    if (now - last_beat >= opts.heartbeat) {
      // How far behind each source reads rides along, for the aggregators' fleet view.
      heartbeat_message beat{session ? session->epoch : 0, incarnation, {}};
      for (const auto& t : counters->sources->all())
        beat.lags.push_back(source_lag{t->source, t->lag_bytes.load(), t->newest_event_ms.load()});
      const std::string body = encode(beat);
      for (const auto& a : aggregators) link->send(a, frame_type::heartbeat, body, std::chrono::milliseconds(0));
      last_beat = now;
    }
    for (const auto& c : peers.check(now)) {
      metrics->peer(c.peer, c.up);
      if (c.up) spdlog::info("agent {}: peer {} is up", cfg.node.name, c.peer);
      else spdlog::warn("agent {}: peer {} is down (silent for {} ms)", cfg.node.name, c.peer, c.silent.count());
    }
    auto f = link->next(std::chrono::milliseconds(50));
    if (!f) continue;
    peers.heard(f->sender, clock::now());
    switch (f->type) {
      case frame_type::resume: {
        auto resume = decode_resume(f->body);
        if (!resume) {
          spdlog::warn("agent {}: a resume from {} does not decode: {}", cfg.node.name, f->sender, to_string(resume.error()));
          break;
        }
        if (f->sender != leader) {
          ready[f->sender] = resume->epoch;
        } else if (!(session && session->epoch == resume->epoch)) {  // not a repeat
          pending = std::move(*resume);
        }
        if (!pending) break;
        const bool all_ready = std::all_of(aggregators.begin() + 1, aggregators.end(),
                                           [&](const std::string& a) { return ready[a] == pending->epoch; });
        if (!all_ready) {
          if (waiting_for != pending->epoch) {
            waiting_for = pending->epoch;
            std::string missing;
            for (auto a = aggregators.begin() + 1; a != aggregators.end(); ++a)
              if (ready[*a] != pending->epoch) missing += (missing.empty() ? "" : ", ") + *a;
            spdlog::info("agent {}: session {:016x} of {} waits for {} to be ready", cfg.node.name, pending->epoch,
                         leader, missing);
          }
          break;
        }
        if (session) {
          spdlog::info("agent {}: {} started session {:016x}: rewinding", cfg.node.name, leader, pending->epoch);
          metrics->rolled_back();
        }
        session.reset();
        try {
          session = start_session(cfg, opts, link, aggregators, signatures, lookups, *pending, incarnation, counters);
        } catch (const std::exception& ex) {
          std::cerr << "vigil run: agent " << cfg.node.name << ": cannot resume from " << leader << "'s checkpoint "
                    << pending->checkpoint << ": " << ex.what() << "\n";
          return 1;
        }
        pending.reset();
        metrics->session_started();
        metrics->ready(true);
        last_beat = clock::now();
        break;
      }
      case frame_type::barrier: {
        auto b = decode_barrier(f->body);
        if (b && session && b->epoch == session->epoch && f->sender == leader)
          caf::anon_send(session->relay, barrier_atom_v, b->checkpoint, b->source);
        break;
      }
      case frame_type::ack: {
        auto a = decode_ack(f->body);
        if (a && session && a->epoch == session->epoch)
          caf::anon_send(session->uplink, ack_atom_v, a->source, a->sequence, f->sender);
        break;
      }
      case frame_type::done: {
        auto d = decode_heartbeat(f->body);
        if (d && session && d->epoch == session->epoch && opts.once && f->sender == leader) {
          spdlog::info("agent {}: {} closed every window; done", cfg.node.name, f->sender);
          session.reset();
          return 0;
        }
        break;
      }
      case frame_type::heartbeat: break;
      default:
        spdlog::warn("agent {}: unexpected {} frame from {}: dropped", cfg.node.name, to_string(f->type), f->sender);
    }
  }
  session.reset();
  return 0;
}

} // namespace vigil
