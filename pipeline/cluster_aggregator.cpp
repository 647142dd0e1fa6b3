#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/fleet_ingress.hpp"
#include "actors/line_sink.hpp"
#include "actors/remote_source.hpp"
#include "messages/cluster_message.hpp"
#include "messages/type_ids.hpp"
#include "pipeline/cluster_metrics.hpp"
#include "metrics/fleet_tally.hpp"
#include "pipeline/node_counters.hpp"
#include "pipeline/cluster_node.hpp"
#include "pipeline/node_stages.hpp"
#include "pipeline/sink_preflight.hpp"
#include "pipeline/store_failure.hpp"
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

/// An agent, or (on the leader) another aggregator, in one session.
struct member {
  uint64_t incarnation = 0;  // the process, once heard of
  bool joined = false;       // its heartbeat of this session came
  bool lost_contact = false; // went down after it joined
  bool done = false;         // `--once`, an aggregator: its windows are closed
  clock::time_point last_resume{};
};

/// A joined member speaking as another process: it restarted, and what
/// its previous process sent in this session was lost with it.
bool restarted(const member& m, uint64_t incarnation) { return m.joined && incarnation != m.incarnation; }

/// Who is who. The first aggregator in the config leads: it runs the
/// sessions, starts the checkpoints, and stores the agents' parts; every
/// other one follows its sessions, keeps its own partition of the keyed
/// windows, and tells it when it has stored its part of a checkpoint.
struct fleet_roles {
  std::string self;
  std::string leader;
  std::vector<std::string> agents;
  std::vector<std::string> followers;  // the other aggregators, when this one leads

  bool leads() const { return self == leader; }
  /// Everyone this node talks to.
  std::vector<std::string> peers() const {
    std::vector<std::string> out = agents;
    if (leads()) out.insert(out.end(), followers.begin(), followers.end());
    else out.push_back(leader);
    return out;
  }
  bool is_follower(const std::string& name) const {
    return std::find(followers.begin(), followers.end(), name) != followers.end();
  }
};

/// One run of the aggregator's pipeline, from one checkpoint.
struct aggregator_session {
  uint64_t epoch = 0;
  recovered_state recovered;
  std::unique_ptr<system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  node_stages stages;
  fleet_ingress_actor ingress;
  std::map<std::string, remote_source_actor> remotes;  // by stream; the leader's
  std::shared_ptr<session_signals> signals = std::make_shared<session_signals>();
  std::map<std::string, member> members;  // by name: agents, and the leader's followers
  /// The leader's remote sources, handed to the coordinator once every
  /// member joined: a barrier sent before would reach an agent with no
  /// session, and the checkpoint would wait for it in vain.
  std::vector<source_actor> sources;
  bool checkpointing = false;

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
/// leader's checkpoint holds each one's part.
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

/// Member `name`'s parts of the recovered checkpoint, with its own names
/// (none for an aggregator: it has its own store).
resume_message resume_for(const aggregator_session& s, const std::string& name) {
  resume_message m;
  m.epoch = s.epoch;
  m.checkpoint = s.recovered.checkpoint;
  const std::string prefix = name + "/";
  for (const auto& [participant, bytes] : s.recovered.remote_parts) {
    const auto colon = participant.find(':');
    if (participant.compare(colon + 1, prefix.size(), prefix) != 0) continue;
    m.parts.push_back({participant.substr(0, colon + 1) + participant.substr(colon + 1 + prefix.size()), bytes});
  }
  return m;
}

/// Starts session `epoch` from `checkpoint` (a follower's: the one the
/// leader names), or for the leader a fresh session from its newest.
std::unique_ptr<aggregator_session> start_session(const vigil_config& fleet, const std::vector<vigil_config>& agents,
                                                  const fleet_roles& roles, const std::shared_ptr<state_store>& store,
                                                  const std::shared_ptr<node_link>& link, uint64_t epoch,
                                                  uint64_t checkpoint, const std::shared_ptr<store_failure>& failure,
                                                  const std::shared_ptr<node_counters>& counters,
                                                  const std::shared_ptr<fleet_tally>& members, std::string& error) {
  auto s = std::make_unique<aggregator_session>();
  s->epoch = epoch;
  stage_plan plan = plan_stages(fleet);
  const bool ok = roles.leads()
                    ? recover(*store, fleet, plan.windows, plan.alert_outputs, s->recovered, error)
                    : recover_at(*store, fleet, plan.windows, plan.alert_outputs, checkpoint, s->recovered, error);
  if (!ok) return nullptr;
  s->sys_cfg = std::make_unique<system_config>();
  s->sys = std::make_unique<caf::actor_system>(*s->sys_cfg);
  stage_options options;
  options.store_failed = [failure](const std::string& e) { failure->set(e); };
  options.counters = counters;  // the node's, across sessions: the dashboard's figures
  if (!roles.leads()) {
    options.follows = true;
    options.stored = [link, roles, epoch](uint64_t id) {
      part_message m{epoch, state_part{id, state_kind::source, "aggregator:" + roles.self, ""}};
      link->send(roles.leader, frame_type::part, encode(m));
    };
  }
  s->stages = spawn_node_stages(*s->sys, fleet, std::move(plan), store, s->recovered, options);

  fleet_ingress_config icfg;
  icfg.link = link;
  icfg.epoch = s->epoch;
  icfg.windows = s->stages.windows;
  for (const auto& a : agents)
    for (const auto& src : a.sources) {
      const std::string stream = stream_name(a.node.name, src.name);
      icfg.streams.push_back(stream);
      if (!roles.leads()) continue;
      auto remote = spawn_remote_source(*s->sys, remote_source_config{link, a.node.name, src.name, s->epoch});
      s->remotes.emplace(stream, remote);
      s->sources.push_back(remote);  // in the order of fleet.sources
    }
  auto signals = s->signals;
  icfg.lost = [signals](const std::string& why) { signals->lose(why); };
  icfg.all_ended = [signals] { signals->all_ended = true; };
  icfg.fleet = members;
  s->ingress = spawn_fleet_ingress(*s->sys, icfg);
  if (!roles.leads()) caf::anon_send(s->stages.coordinator, run_atom_v, std::vector<source_actor>{});
  for (const auto& a : roles.agents) s->members[a] = member{};
  for (const auto& f : roles.followers) s->members[f] = member{};
  const partition part = partition_of_node(fleet);
  spdlog::info("aggregator {}: session {:016x} from checkpoint {}: {} agents, {} streams, {} windows, {} rules, "
               "partition {} of {}",
               roles.self, s->epoch, s->recovered.checkpoint, agents.size(), icfg.streams.size(),
               fleet.windows.size(), fleet.rules.size(), part.index + 1, part.count);
  return s;
}

/// A member's part of a checkpoint: an agent's read positions go to the
/// remote source that asked for them, its dedup filter and another
/// aggregator's "stored" straight to the coordinator.
void take_part(aggregator_session& s, const fleet_roles& roles, const std::string& sender, state_part part) {
  const auto colon = part.participant.find(':');
  if (colon == std::string::npos) return;
  const std::string kind = part.participant.substr(0, colon);
  if (roles.is_follower(sender)) {
    if (part.participant == "aggregator:" + sender) caf::anon_send(s.stages.coordinator, checkpoint_atom_v, std::move(part));
    return;
  }
  const std::string stream = stream_name(sender, part.participant.substr(colon + 1));
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
    // A checkpoint in progress finishes first, or is abandoned (its
    // barrier lost with a member that left) by the coordinator.
    self->request(s.stages.coordinator, caf::infinite, stop_atom_v, false).receive([](uint64_t) {}, [](caf::error&) {});
    self->request(s.stages.windows, caf::infinite, flush_atom_v, true).receive([](bool) {}, [](caf::error&) {});
    finished = true;
  });
}

class aggregator_node {
public:
  aggregator_node(const vigil_config& cfg, const std::vector<vigil_config>& agents, const cluster_run_options& opts,
                  fleet_roles roles, std::shared_ptr<state_store> store, std::shared_ptr<node_link> link,
                  std::unique_ptr<cluster_metrics> metrics, std::shared_ptr<node_counters> counters)
    : agents_(agents), opts_(opts), fleet_(fleet_view(cfg, agents)), roles_(std::move(roles)),
      peer_names_(roles_.peers()), store_(std::move(store)), link_(std::move(link)), metrics_(std::move(metrics)),
      counters_(std::move(counters)), peers_(peer_names_, opts.down_after) {}

  int run() {
    spdlog::info("aggregator {}: listening on {}{}", roles_.self, link_->endpoint(),
                 roles_.leads() ? "" : ", following " + roles_.leader);
    return roles_.leads() ? lead() : follow();
  }

private:
  /// The leader: a session per turn, each rollback starts the next.
  int lead() {
    while (true) {
      std::string error;
      session_ = start_session(fleet_, agents_, roles_, store_, link_, random_id(), 0, store_failure_, counters_,
                               metrics_->fleet(), error);
      if (!session_) return fail(error);
      metrics_->session_started();
      metrics_->ready(true);
      rollback_.clear();
      while (rollback_.empty()) {
        if (stop_requested()) return 0;
        if (store_failure_->failed()) return stop_on_store_failure();
        if (opts_.once && finished_ && all_followers_done()) {
          join_finish();
          for (const auto& n : peer_names_)
            link_->send(n, frame_type::done, encode(heartbeat_message{session_->epoch, incarnation_, {}}));
          spdlog::info("aggregator {}: every agent read to its end; every window closed", roles_.self);
          return 0;
        }
        serve_session();
      }
      end_session();
      last_rollback_ = std::chrono::steady_clock::now();
      metrics_->rolled_back();
      spdlog::warn("aggregator {}: {}: rolling back to the last complete checkpoint, in a new session", roles_.self,
                   rollback_);
    }
  }

  /// A follower: sessions come from the leader's resume frames.
  int follow() {
    std::string lost_why;
    auto last_ask = clock::time_point{};
    while (true) {
      if (stop_requested()) return 0;
      if (fatal_) return 1;
      if (store_failure_->failed()) return stop_on_store_failure();
      if (session_) {
        if (opts_.once && finished_ && clock::now() - last_done_ >= opts_.heartbeat) {
          link_->send(roles_.leader, frame_type::done, encode(heartbeat_message{session_->epoch, incarnation_, {}}),
                      std::chrono::milliseconds(0));
          last_done_ = clock::now();
        }
        serve_session();
        if (leader_done_) {
          join_finish();
          spdlog::info("aggregator {}: {} closed the fleet's windows; done", roles_.self, roles_.leader);
          return 0;
        }
        if (!rollback_.empty() && session_) {
          lost_epoch_ = session_->epoch;
          lost_why = rollback_;
          spdlog::warn("aggregator {}: {}: asking {} to roll the fleet back", roles_.self, rollback_, roles_.leader);
          end_session();
          metrics_->rolled_back();
          rollback_.clear();
        }
        continue;
      }
      // Between sessions: ask where to resume, and why the last one ended.
      const auto now = clock::now();
      if (now - last_ask >= std::chrono::seconds(1)) {
        // The reason first: one connection keeps the order, so the leader
        // rolls back before it answers the hello.
        if (lost_epoch_ != 0)
          link_->send(roles_.leader, frame_type::rollback, encode(rollback_message{lost_epoch_, lost_why}),
                      std::chrono::milliseconds(0));
        link_->send(roles_.leader, frame_type::hello, encode(hello_message{incarnation_, {}}), std::chrono::milliseconds(0));
        last_ask = now;
      }
      beat(now);
      check_peers(now);
      auto f = link_->next(std::chrono::milliseconds(50));
      if (!f) continue;
      peers_.heard(f->sender, clock::now());
      if (f->type != frame_type::resume || f->sender != roles_.leader) continue;
      if (!join_leader(*f)) return 1;
    }
  }

  /// A resume from the leader: start its session (the checkpoint it names).
  bool join_leader(const received_frame& f) {
    auto resume = decode_resume(f.body);
    if (!resume) {
      spdlog::warn("aggregator {}: a resume from {} does not decode: {}", roles_.self, f.sender, to_string(resume.error()));
      return true;
    }
    // A repeat, or the session this node lost (its streams went on without it).
    if ((session_ && session_->epoch == resume->epoch) || resume->epoch == lost_epoch_) return true;
    if (session_) {
      spdlog::info("aggregator {}: {} started session {:016x}: rolling back", roles_.self, f.sender, resume->epoch);
      end_session();
      metrics_->rolled_back();
    }
    std::string error;
    session_ = start_session(fleet_, agents_, roles_, store_, link_, resume->epoch, resume->checkpoint, store_failure_,
                             counters_, metrics_->fleet(),
                             error);
    if (!session_) {
      std::cerr << "vigil run: " << error << "\n";
      return false;
    }
    lost_epoch_ = 0;
    metrics_->session_started();
    metrics_->ready(true);
    // Told at once: the leader counts this node in only once it has joined.
    link_->send(roles_.leader, frame_type::heartbeat, encode(heartbeat_message{session_->epoch, incarnation_, {}}));
    rollback_.clear();
    return true;
  }

  /// One step of a session: beats, resumes, peers, one frame.
  void serve_session() {
    auto& s = *session_;
    if (opts_.once && s.signals->all_ended && !finishing_.joinable()) finishing_ = finish(s, finished_);
    rollback_ = s.signals->lost_reason();
    if (!rollback_.empty()) return;
    const auto now = clock::now();
    beat(now);
    // Until a member joins: where it resumes, sent again every second.
    for (auto& [name, m] : s.members)
      if (!m.joined && now - m.last_resume >= std::chrono::seconds(1)) send_resume(name, m);
    check_peers(now);
    if (!rollback_.empty()) return;
    auto f = link_->next(std::chrono::milliseconds(50));
    if (!f) return;
    peers_.heard(f->sender, clock::now());
    take(*f);
    if (session_ && roles_.leads() && !session_->checkpointing) start_checkpoints();
  }

  /// The leader's checkpoints start once every member joined its session.
  void start_checkpoints() {
    auto& s = *session_;
    for (const auto& [name, m] : s.members)
      if (!m.joined) return;
    s.checkpointing = true;
    caf::anon_send(s.stages.coordinator, run_atom_v, std::move(s.sources));
    spdlog::info("aggregator {}: every member joined session {:016x}; checkpoints start", roles_.self, s.epoch);
  }

  void take(received_frame& f) {
    auto& s = *session_;
    switch (f.type) {
      case frame_type::events:
        caf::anon_send(s.ingress, ingest_atom_v, f.sender, std::move(f.body));
        break;
      case frame_type::part: {
        auto p = decode_part(f.body);
        if (p && p->epoch == s.epoch && roles_.leads()) take_part(s, roles_, f.sender, std::move(p->part));
        break;
      }
      case frame_type::hello: {
        auto h = decode_hello(f.body);
        if (!h) break;
        if (member* m = same_process(f.sender, h->incarnation)) {
          m->incarnation = h->incarnation;
          send_resume(f.sender, *m);
        }
        break;
      }
      case frame_type::heartbeat: {
        auto h = decode_heartbeat(f.body);
        if (!h) break;
        if (!h->lags.empty()) note_lag(f.sender, h->lags);
        member* m = same_process(f.sender, h->incarnation);
        if (m && h->epoch == s.epoch && !m->joined) {
          m->joined = true;
          m->incarnation = h->incarnation;
          spdlog::info("aggregator {}: {} joined session {:016x}", roles_.self, describe(f.sender), s.epoch);
        }
        break;
      }
      case frame_type::rollback: {
        auto r = decode_rollback(f.body);
        if (r && roles_.leads() && roles_.is_follower(f.sender) && r->epoch == s.epoch)
          rollback_ = "aggregator " + f.sender + " lost data (" + r->reason + ")";
        break;
      }
      case frame_type::done: {
        auto d = decode_heartbeat(f.body);
        if (!d || d->epoch != s.epoch) break;
        if (roles_.leads() && roles_.is_follower(f.sender)) s.members[f.sender].done = true;
        if (!roles_.leads() && f.sender == roles_.leader) leader_done_ = true;
        break;
      }
      case frame_type::resume:
        if (!roles_.leads() && f.sender == roles_.leader && !join_leader(f)) fatal_ = true;
        break;
      default:
        if (++unexpected_frames_ == 1 || unexpected_frames_ % 1000 == 0)
          spdlog::warn("aggregator {}: unexpected {} frame from {}: dropped ({} so far)", roles_.self, to_string(f.type),
                       f.sender, unexpected_frames_);
    }
  }

  /// Member `sender` of this session, speaking as process `incarnation`;
  /// null for a node that is not a member (the leader's own heartbeats),
  /// and for a joined member that restarted, which rolls the fleet back.
  member* same_process(const std::string& sender, uint64_t incarnation) {
    auto it = session_->members.find(sender);
    if (it == session_->members.end()) return nullptr;
    if (restarted(it->second, incarnation)) {
      // A restart costs the fleet a rollback: at most one such every 10 s,
      // so a crash loop or a forged hello (without keys anyone on the
      // network can send one) cannot keep the windows from moving. The
      // agent says hello again every second until it gets its answer.
      const auto since = std::chrono::steady_clock::now() - last_rollback_;
      if (since < min_rollback_gap) {
        if (++restarts_held_ == 1 || restarts_held_ % 100 == 0)
          spdlog::warn("aggregator {}: {} says it restarted {} ms after the last rollback: not rolled back again "
                       "within 10 s (a crash loop, or a forged hello: give the cluster Curve keys) ({} so far)",
                       roles_.self, describe(sender),
                       std::chrono::duration_cast<std::chrono::milliseconds>(since).count(), restarts_held_);
        return nullptr;
      }
      rollback_ = describe(sender) + " restarted";
      return nullptr;
    }
    return &it->second;
  }

  /// An agent's read lag, for the fleet view: its sources' bytes unread
  /// summed, and the stalest of their newest event times.
  void note_lag(const std::string& agent, const std::vector<source_lag>& lags) {
    member_tally* t = metrics_->fleet()->of(agent);
    if (!t) return;
    uint64_t bytes = 0;
    int64_t newest = INT64_MAX;
    for (const auto& l : lags) {
      bytes += l.bytes;
      newest = std::min(newest, l.newest_event_ms);
    }
    t->lag_bytes = bytes;
    t->newest_event_ms = newest;
    t->reports_lag = true;
  }

  void send_resume(const std::string& name, member& m) {
    link_->send(name, frame_type::resume, encode(resume_for(*session_, name)), std::chrono::milliseconds(0));
    m.last_resume = clock::now();
  }

  void beat(clock::time_point now) {
    if (now - last_beat_ < opts_.heartbeat) return;
    const uint64_t epoch = session_ ? session_->epoch : 0;
    for (const auto& n : peer_names_)
      link_->send(n, frame_type::heartbeat, encode(heartbeat_message{epoch, incarnation_, {}}), std::chrono::milliseconds(0));
    last_beat_ = now;
  }

  void check_peers(clock::time_point now) {
    for (const auto& c : peers_.check(now)) {
      metrics_->peer(c.peer, c.up);
      if (c.up) spdlog::info("aggregator {}: peer {} is up", roles_.self, c.peer);
      else spdlog::warn("aggregator {}: peer {} is down (silent for {} ms)", roles_.self, c.peer, c.silent.count());
      if (!session_) continue;
      auto it = session_->members.find(c.peer);
      if (it == session_->members.end()) continue;
      // Frames may have been lost with the connection (ZeroMQ reconnects,
      // but what was in flight is gone): a member that went away may
      // hold a batch, an ack or a part that never arrives.
      member& m = it->second;
      if (!c.up && m.joined) m.lost_contact = true;
      if (c.up && m.lost_contact) rollback_ = describe(c.peer) + " was unreachable";
    }
  }

  bool all_followers_done() const {
    for (const auto& f : roles_.followers)
      if (!session_->members.at(f).done) return false;
    return true;
  }

  std::string describe(const std::string& name) const {
    return (roles_.is_follower(name) ? "aggregator " : "agent ") + name;
  }

  bool stop_requested() {
    int sig = take_stop_signal();
    if (!sig) return false;
    spdlog::info("aggregator {}: {} received, stopping", roles_.self, stop_signal_name(sig));
    join_finish();
    return true;
  }

  void join_finish() {
    if (finishing_.joinable()) finishing_.join();
  }

  void end_session() {
    metrics_->ready(false);
    join_finish();
    finished_ = false;
    leader_done_ = false;
    session_.reset();
  }

  /// No checkpoint can be written: stop without one; the next start cuts
  /// the sinks back and the fleet replays from the last complete one.
  int stop_on_store_failure() {
    spdlog::error("{}", store_failure_message(roles_.self, store_failure_->error()));
    give_up_failing_writes();
    end_session();
    return 1;
  }

  int fail(const std::string& error) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }

  const std::vector<vigil_config>& agents_;
  cluster_run_options opts_;
  const vigil_config fleet_;
  const fleet_roles roles_;
  const std::vector<std::string> peer_names_;  // everyone this node talks to
  std::shared_ptr<state_store> store_;
  std::shared_ptr<node_link> link_;
  std::unique_ptr<cluster_metrics> metrics_;
  std::shared_ptr<node_counters> counters_;
  peer_table peers_;
  const uint64_t incarnation_ = random_id();
  std::unique_ptr<aggregator_session> session_;
  std::shared_ptr<store_failure> store_failure_ = std::make_shared<store_failure>();
  std::string rollback_;
  static constexpr std::chrono::seconds min_rollback_gap{10};
  std::chrono::steady_clock::time_point last_rollback_{};
  uint64_t restarts_held_ = 0;
  uint64_t unexpected_frames_ = 0;
  std::thread finishing_;
  std::atomic<bool> finished_{false};
  bool leader_done_ = false;
  bool fatal_ = false;         // a follower that cannot load the leader's checkpoint
  uint64_t lost_epoch_ = 0;    // a follower's lost session: it asks the leader for a new one
  clock::time_point last_beat_{}, last_done_{};
};

} // namespace

int run_aggregator(const vigil_config& cfg, const std::vector<vigil_config>& agents, const cluster_run_options& opts) {
  std::string error;
  if (!sinks_can_open(cfg, error)) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  auto store = std::shared_ptr<state_store>(state_store::open(cfg.node.state_dir, error));
  if (!store) {
    std::cerr << "vigil run: " << error << "\n";
    return 1;
  }
  fleet_roles roles;
  roles.self = cfg.node.name;
  const auto aggregators = aggregator_names(cfg.cluster);
  roles.leader = aggregators.front();
  for (const auto& a : agents) roles.agents.push_back(a.node.name);
  if (roles.leads()) roles.followers.assign(aggregators.begin() + 1, aggregators.end());
  std::shared_ptr<node_link> link;
  try {
    link = open_node_link(cfg.cluster, cfg.node.name, roles.peers());
  } catch (const std::exception& ex) {
    std::cerr << "vigil run: aggregator " << cfg.node.name << ": " << ex.what() << "\n";
    return 1;
  }
  std::unique_ptr<cluster_metrics> metrics;
  auto counters = node_counters::of(fleet_view(cfg, agents), false);
  try {
    metrics = std::make_unique<cluster_metrics>(cfg, "aggregator", link, roles.peers(), counters, roles.agents);
  } catch (const std::exception& ex) {
    std::cerr << "vigil run: aggregator " << cfg.node.name << ": " << ex.what() << "\n";
    return 1;
  }
  return aggregator_node(cfg, agents, opts, std::move(roles), std::move(store), std::move(link), std::move(metrics),
                         std::move(counters))
    .run();
}

} // namespace vigil
