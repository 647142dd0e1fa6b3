#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/fleet_ingress.hpp"
#include "actors/remote_source.hpp"
#include "messages/cluster_message.hpp"
#include "messages/type_ids.hpp"
#include "pipeline/cluster_node.hpp"
#include "pipeline/node_stages.hpp"
#include "pipeline/stop_signal.hpp"
#include "pipeline/system_config.hpp"
#include "state/state_store.hpp"
#include "transport/peer_table.hpp"

namespace vigil {

namespace {

using clock = std::chrono::steady_clock;

/// What the ingress reports from its thread to the node's loop.
struct session_signals {
  std::mutex lock;
  std::string lost;  // non-empty: roll back, and why
  std::atomic<bool> all_ended{false};

  void lose(const std::string& why) {
    std::lock_guard<std::mutex> guard(lock);
    if (lost.empty()) lost = why;
  }
  std::string lost_reason() {
    std::lock_guard<std::mutex> guard(lock);
    return lost;
  }
};

struct member {
  uint64_t incarnation = 0;  // the agent process, once heard of
  bool joined = false;       // its heartbeat of this session came
  bool lost_contact = false; // went down after it joined
  clock::time_point last_resume{};
};

/// A joined member speaking as another process: it restarted, and what
/// its previous process sent in this session was lost with it.
bool restarted(const member& m, uint64_t incarnation) { return m.joined && incarnation != m.incarnation; }

/// One run of the aggregator's pipeline, from one checkpoint.
struct aggregator_session {
  uint64_t epoch = 0;
  recovered_state recovered;
  std::unique_ptr<system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  node_stages stages;
  fleet_ingress_actor ingress;
  std::map<std::string, remote_source_actor> remotes;  // by stream
  std::shared_ptr<session_signals> signals = std::make_shared<session_signals>();
  std::map<std::string, member> members;  // by agent

  ~aggregator_session() {
    for (auto& [name, r] : remotes) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    if (ingress) caf::anon_send_exit(ingress, caf::exit_reason::user_shutdown);
    for (auto& a : stages.all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    remotes.clear();
    ingress = nullptr;
    stages = node_stages{};
    sys.reset();
  }
};

/// The aggregator's view with one source per agent source ("AGENT/SOURCE",
/// type zmq): the window stage aligns barriers over them, and the
/// checkpoint holds each one's part.
vigil_config fleet_view(const vigil_config& cfg, const std::vector<vigil_config>& agents) {
  vigil_config out = cfg;
  out.sources.clear();
  for (const auto& a : agents)
    for (const auto& s : a.sources) {
      source_config r = s;
      r.name = stream_name(a.node.name, s.name);
      r.type = source_type::zmq;
      out.sources.push_back(r);
    }
  return out;
}

/// Agent `agent`'s parts of the recovered checkpoint, with its own names.
resume_message resume_for(const aggregator_session& s, const std::string& agent) {
  resume_message m;
  m.epoch = s.epoch;
  m.checkpoint = s.recovered.checkpoint;
  const std::string prefix = agent + "/";
  for (const auto& [participant, bytes] : s.recovered.remote_parts) {
    const auto colon = participant.find(':');
    if (participant.compare(colon + 1, prefix.size(), prefix) != 0) continue;
    m.parts.push_back({participant.substr(0, colon + 1) + participant.substr(colon + 1 + prefix.size()), bytes});
  }
  return m;
}

std::unique_ptr<aggregator_session> start_session(const vigil_config& fleet, const std::vector<vigil_config>& agents,
                                                  const std::shared_ptr<state_store>& store,
                                                  const std::shared_ptr<node_link>& link, std::string& error) {
  auto s = std::make_unique<aggregator_session>();
  s->epoch = random_id();
  stage_plan plan = plan_stages(fleet);
  if (!recover(*store, fleet, plan.windows, plan.alert_outputs, s->recovered, error)) return nullptr;
  s->sys_cfg = std::make_unique<system_config>();
  s->sys = std::make_unique<caf::actor_system>(*s->sys_cfg);
  s->stages = spawn_node_stages(*s->sys, fleet, std::move(plan), store, s->recovered);

  std::vector<source_actor> sources;  // in the order of fleet.sources
  fleet_ingress_config icfg;
  icfg.link = link;
  icfg.epoch = s->epoch;
  icfg.windows = s->stages.windows;
  for (const auto& a : agents)
    for (const auto& src : a.sources) {
      const std::string stream = stream_name(a.node.name, src.name);
      auto remote = spawn_remote_source(*s->sys, remote_source_config{link, a.node.name, src.name, s->epoch});
      s->remotes.emplace(stream, remote);
      sources.push_back(remote);
      icfg.streams.push_back(stream);
    }
  auto signals = s->signals;
  icfg.lost = [signals](const std::string& why) { signals->lose(why); };
  icfg.all_ended = [signals] { signals->all_ended = true; };
  s->ingress = spawn_fleet_ingress(*s->sys, icfg);
  caf::anon_send(s->stages.coordinator, run_atom_v, std::move(sources));
  for (const auto& a : agents) s->members[a.node.name] = member{};
  spdlog::info("aggregator {}: session {:016x} from checkpoint {}: {} agents, {} streams, {} windows, {} rules",
               fleet.node.name, s->epoch, s->recovered.checkpoint, agents.size(), icfg.streams.size(),
               fleet.windows.size(), fleet.rules.size());
  return s;
}

/// An agent's part of a checkpoint: its read positions go to the remote
/// source that asked for them, a dedup filter straight to the coordinator.
void take_part(aggregator_session& s, const std::string& agent, state_part part) {
  const auto colon = part.participant.find(':');
  if (colon == std::string::npos) return;
  const std::string kind = part.participant.substr(0, colon);
  const std::string stream = stream_name(agent, part.participant.substr(colon + 1));
  if (kind == "source") {
    auto it = s.remotes.find(stream);
    if (it != s.remotes.end()) caf::anon_send(it->second, checkpoint_atom_v, std::move(part));
  } else if (kind == "dedup") {
    part.participant = "dedup:" + stream;
    caf::anon_send(s.stages.coordinator, checkpoint_atom_v, std::move(part));
  }
}

/// `--once`: every agent read to its end. Closes every window and flushes
/// the sinks on a thread of its own, while the node's loop goes on taking
/// frames (a checkpoint in progress needs the agents' parts to finish).
std::thread finish(aggregator_session& s, std::atomic<bool>& finished) {
  return std::thread([&s, &finished] {
    caf::scoped_actor self{*s.sys};
    self->request(s.stages.coordinator, caf::infinite, stop_atom_v, false).receive([](uint64_t) {}, [](caf::error&) {});
    self->request(s.stages.windows, caf::infinite, flush_atom_v, true).receive([](bool) {}, [](caf::error&) {});
    finished = true;
  });
}

} // namespace

int run_aggregator(const vigil_config& cfg, const std::vector<vigil_config>& agents, const cluster_run_options& opts) {
  const vigil_config fleet = fleet_view(cfg, agents);
  std::string error;
  auto store = std::shared_ptr<state_store>(state_store::open(cfg.node.state_dir, error));
  if (!store) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& a : agents) names.push_back(a.node.name);
  std::shared_ptr<node_link> link;
  try {
    link = open_node_link(cfg.cluster, cfg.node.name, names);
  } catch (const std::exception& ex) {
    std::cerr << "vigil run: aggregator " << cfg.node.name << ": " << ex.what() << "\n";
    return 1;
  }
  spdlog::info("aggregator {}: listening on {}", cfg.node.name, link->endpoint());
  peer_table peers(names, opts.down_after);

  while (true) {  // one session per turn: a rollback starts the next
    auto session = start_session(fleet, agents, store, link, error);
    if (!session) {
      std::cerr << "vigil run: " << error << "\n";
      return 1;
    }
    auto& s = *session;
    auto last_beat = clock::time_point{};
    std::string rollback;
    std::thread finishing;
    std::atomic<bool> finished{false};
    // Until an agent joins: where it resumes, sent again every second.
    auto send_resume = [&](const std::string& agent, member& m) {
      link->send(agent, frame_type::resume, encode(resume_for(s, agent)), std::chrono::milliseconds(0));
      m.last_resume = clock::now();
    };
    while (rollback.empty()) {
      if (int sig = take_stop_signal()) {
        spdlog::info("aggregator {}: {} received, stopping", cfg.node.name, stop_signal_name(sig));
        if (finishing.joinable()) finishing.join();
        return 0;
      }
      if (opts.once && s.signals->all_ended && !finishing.joinable()) finishing = finish(s, finished);
      if (finished) {
        finishing.join();
        for (const auto& n : names) link->send(n, frame_type::done, encode(heartbeat_message{s.epoch, 0}));
        spdlog::info("aggregator {}: every agent read to its end; every window closed", cfg.node.name);
        return 0;
      }
      rollback = s.signals->lost_reason();
      if (!rollback.empty()) break;
      const auto now = clock::now();
      if (now - last_beat >= opts.heartbeat) {
        for (const auto& n : names)
          link->send(n, frame_type::heartbeat, encode(heartbeat_message{s.epoch, 0}), std::chrono::milliseconds(0));
        last_beat = now;
      }
      for (auto& [agent, m] : s.members)
        if (!m.joined && now - m.last_resume >= std::chrono::seconds(1)) send_resume(agent, m);
      for (const auto& c : peers.check(now)) {
        if (c.up) spdlog::info("aggregator {}: peer {} is up", cfg.node.name, c.peer);
        else spdlog::warn("aggregator {}: peer {} is down (silent for {} ms)", cfg.node.name, c.peer, c.silent.count());
        // Frames may have been lost with the connection (ZeroMQ reconnects,
        // but what was in flight is gone): a member that went away may
        // hold a batch or an ack that never arrives.
        if (!c.up && s.members[c.peer].joined) s.members[c.peer].lost_contact = true;
        if (c.up && s.members[c.peer].lost_contact) rollback = "agent " + c.peer + " was unreachable";
      }
      if (!rollback.empty()) break;
      auto f = link->next(std::chrono::milliseconds(50));
      if (!f) continue;
      peers.heard(f->sender, clock::now());
      member& m = s.members[f->sender];
      switch (f->type) {
        case frame_type::events:
          caf::anon_send(s.ingress, ingest_atom_v, f->sender, std::move(f->body));
          break;
        case frame_type::part: {
          auto p = decode_part(f->body);
          if (p && p->epoch == s.epoch) take_part(s, f->sender, std::move(p->part));
          break;
        }
        case frame_type::hello: {
          auto h = decode_hello(f->body);
          if (!h) break;
          if (restarted(m, h->incarnation)) {
            rollback = "agent " + f->sender + " restarted";
            break;
          }
          m.incarnation = h->incarnation;
          send_resume(f->sender, m);
          break;
        }
        case frame_type::heartbeat: {
          auto h = decode_heartbeat(f->body);
          if (!h) break;
          if (restarted(m, h->incarnation)) {
            rollback = "agent " + f->sender + " restarted";
            break;
          }
          if (h->epoch == s.epoch && !m.joined) {
            m.joined = true;
            m.incarnation = h->incarnation;
            spdlog::info("aggregator {}: agent {} joined session {:016x}", cfg.node.name, f->sender, s.epoch);
          }
          break;
        }
        default:
          spdlog::warn("aggregator {}: unexpected {} frame from {}: dropped", cfg.node.name, to_string(f->type),
                       f->sender);
      }
    }
    if (finishing.joinable()) finishing.join();
    spdlog::warn("aggregator {}: {}: rolling back to the last complete checkpoint, in a new session", cfg.node.name,
                 rollback);
  }
}

} // namespace vigil
