#include "pipeline/recovery.hpp"

#include <filesystem>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "parse/timestamp.hpp"
#include "db/database_sink.hpp"
#include "rules/rule_engine.hpp"
#include "state/source_state.hpp"
#include "state/state_codec.hpp"
#include "state/state_store.hpp"

namespace vigil {

namespace {

bool checkpointed_sink(const sink_config& s) {
  if (s.type == sink_type::csv) return s.input == sink_input::records;
  return s.type == sink_type::jsonl || is_database_sink(s);
}

/// Where a checkpointed sink writes: its file, or its database and table.
std::string sink_target(const sink_config& s) { return is_database_sink(s) ? database_target(s) : s.path; }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

/// "window minute: ..." -> "window minute"
std::string subject(const std::string& line) { return line.substr(0, line.find(':')); }

std::string describe_change(const std::vector<std::string>& before, const std::vector<std::string>& now) {
  std::map<std::string, std::string> was, is;
  for (const auto& l : before) was[subject(l)] = l;
  for (const auto& l : now) is[subject(l)] = l;
  std::vector<std::string> changes;
  for (const auto& [k, l] : was) {
    auto it = is.find(k);
    if (it == is.end()) changes.push_back(k + " was removed");
    else if (it->second != l) changes.push_back(k + " changed (was \"" + l.substr(k.size() + 2) + "\", now \"" +
                                                it->second.substr(k.size() + 2) + "\")");
  }
  for (const auto& [k, l] : is)
    if (!was.count(k)) changes.push_back(k + " was added");
  std::string out;
  for (const auto& c : changes) out += (out.empty() ? "" : "; ") + c;
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const source_config* source_named(const vigil_config& cfg, const std::string& name) {
  for (const auto& s : cfg.sources)
    if (s.name == name) return &s;
  return nullptr;
}

} // namespace

bool restore_source_part(const vigil_config& cfg, const state_part& part, recovered_state& r) {
  const std::string& name = part.participant;
  const bool positions = name.rfind("source:", 0) == 0, dedup = name.rfind("dedup:", 0) == 0;
  if (!positions && !dedup) return false;
  const std::string source = name.substr(name.find(':') + 1);
  const source_config* s = source_named(cfg, source);
  if (!s) return true;  // a source since removed: the config check said so
  if (s->type == source_type::zmq) {
    r.remote_parts[name] = part.bytes;
  } else if (positions) {
    if (s->type == source_type::file) r.sources[source] = decode_tail_positions(part.bytes);
  } else {
    auto filter = std::make_shared<duplicate_filter>(s->dedup_horizon.count());
    state_reader reader(part.bytes);
    filter->restore(reader);
    r.dedup[source] = std::move(filter);
  }
  return true;
}

namespace {

/// Decodes every part of checkpoint `id` into `out`; false with `error`.
bool load(const state_store& store, uint64_t id, const vigil_config& cfg, const window_stage_config& windows,
          const std::vector<alert_output>& alert_outputs, recovered_state& out, std::string& error) {
  const int64_t started_ms = process_uptime_ms();
  std::vector<state_part> parts;
  if (!store.read_checkpoint(id, parts, error)) return false;
  const int64_t read_ms = process_uptime_ms();
  std::set<std::string> expected;
  for (const auto& p : checkpoint_participants(cfg)) expected.insert(p);
  recovered_state r;
  r.checkpoint = id;
  try {
    for (const auto& p : parts) {
      expected.erase(p.participant);
      const std::string& name = p.participant;
      if (restore_source_part(cfg, p, r)) continue;
      if (name == "windows") {
        r.detectors = std::make_shared<std::vector<detector_bank>>();
        r.windows = std::make_shared<std::vector<window_engine>>(restore_window_engines(windows, p.bytes, r.detectors.get()));
      } else if (name == "detect") {
        std::string e;
        if (auto engine = rule_engine::make(cfg.rules, cfg.detectors, cfg.node.name, e)) {
          state_reader reader(p.bytes);
          engine->restore(reader);
          r.detect = std::move(engine);
        }
      } else if (name == "alerts") {
        r.alerts = std::make_shared<alert_router>(alert_outputs);
        state_reader reader(p.bytes);
        r.alerts->restore(reader);
      } else if (name.rfind("sink:", 0) == 0) {
        r.sink_positions[name.substr(5)] = decode_sink_position(p.bytes);
      }
    }
  } catch (const std::exception& ex) {
    error = "checkpoint " + std::to_string(id) + ": " + ex.what();
    return false;
  }
  if (!expected.empty()) {
    error = "checkpoint " + std::to_string(id) + " has no part for " + *expected.begin();
    return false;
  }
  size_t bytes = 0;
  for (const auto& p : parts) bytes += p.bytes.size();
  spdlog::debug("state: checkpoint {}: {} bytes read in {} ms, decoded in {} ms", id, bytes, read_ms - started_ms,
                process_uptime_ms() - read_ms);
  out = std::move(r);
  return true;
}

} // namespace

std::vector<std::string> checkpoint_participants(const vigil_config& cfg) {
  std::vector<std::string> out;
  const partition part = partition_of_node(cfg);
  // The agents' parts go to the leading aggregator only; it also waits
  // for every other aggregator to have stored its own.
  if (part.index == 0)
    for (const auto& s : cfg.sources) {
      out.push_back("source:" + s.name);
      if (s.dedup_horizon.count() > 0) out.push_back("dedup:" + s.name);
    }
  if (part.index == 0 && !part.single()) {
    const auto names = aggregator_names(cfg.cluster);
    for (size_t i = 1; i < names.size(); ++i) out.push_back("aggregator:" + names[i]);
  }
  out.push_back("windows");
  out.push_back("detect");
  out.push_back("alerts");
  for (const auto& s : cfg.sinks)
    if (checkpointed_sink(s)) out.push_back("sink:" + s.name);
  return out;
}

std::vector<std::string> state_config_lines(const vigil_config& cfg) {
  std::vector<std::string> out;
  for (const auto& s : cfg.sources)
    out.push_back("source " + s.name + ": " + to_string(s.type) + " " + (s.type == source_type::file ? s.path : "-")
                  + (s.dedup_horizon.count() > 0 ? " dedup" : ""));
  for (const auto& w : cfg.windows) {
    std::ostringstream o;
    o << "window " << w.name << ": " << to_string(w.type) << " size=" << w.size.count() << "ms slide=" << w.slide.count()
      << "ms gap=" << w.gap.count() << "ms lateness=" << w.allowed_lateness.count() << "ms group_by=["
      << join(w.group_by) << "] max_groups=" << w.max_groups;
    if (w.max_state_bytes != window_config{}.max_state_bytes) o << " max_state_bytes=" << w.max_state_bytes;
    for (const auto& [name, expr] : w.metrics) o << " " << name << "=" << expr;
    out.push_back(o.str());
  }
  for (const auto& r : cfg.rules) out.push_back("rule " + r.name + ": window=" + r.window + " when=" + r.when);
  for (const auto& d : cfg.detectors)
    out.push_back("detector " + d.name + ": window=" + d.window + " metric=" + d.metric + " group_by=[" + join(d.group_by)
                  + "] method=" + to_string(d.params.method) + " max_series=" + std::to_string(d.max_series));
  if (const partition part = partition_of_node(cfg); !part.single())
    out.push_back("partition " + std::to_string(part.index + 1) + " of " + std::to_string(part.count) + ": " +
                  join(aggregator_names(cfg.cluster)));
  std::vector<std::string> alert_sinks;
  for (const auto& s : cfg.sinks)
    if (s.input == sink_input::alerts) alert_sinks.push_back(s.name);
  out.push_back("alert sinks: " + join(alert_sinks));
  for (const auto& s : cfg.sinks)
    if (checkpointed_sink(s))
      out.push_back("sink " + s.name + ": " + (is_database_sink(s) ? database_target(s) : std::string(to_string(s.type)) + " " + s.path));
  return out;
}

namespace {

/// Checks that `store` (holding `checkpoints`) was made with this config,
/// or records it on a fresh one.
bool check_made_with(state_store& store, const vigil_config& cfg, const std::vector<checkpoint_info>& checkpoints,
                     std::string& error) {
  const auto now = state_config_lines(cfg);
  std::string now_text;
  for (const auto& l : now) now_text += l + "\n";
  auto made_with = store.setting("config");
  if (made_with && *made_with != now_text && !checkpoints.empty()) {
    error = "state dir " + store.dir() + " was made with another config: " +
            describe_change(split_lines(*made_with), now) +
            ". Its windows and alerts cannot be carried over. To start fresh, move the directory away "
            "(or delete it); to resume, run with the config it was made with.";
    return false;
  }
  if (!made_with || *made_with != now_text)
    if (!store.put_setting("config", now_text, error)) return false;
  return true;
}

/// No checkpoint yet. A run killed before its first one may have written
/// to the sinks already: their lengths when the store was first used are
/// where a restart cuts them back to, as it would to a checkpoint's.
bool start_fresh(state_store& store, const vigil_config& cfg, recovered_state& out, std::string& error) {
  out = recovered_state{};
  for (const auto& s : cfg.sinks) {
    if (!checkpointed_sink(s)) continue;
    const std::string key = "sink_baseline:" + s.name + ":" + sink_target(s);
    if (auto baseline = store.setting(key)) {
      out.sink_positions[s.name] = decode_sink_position(*baseline);
      continue;
    }
    if (is_database_sink(s)) {
      // The rows the database holds of this sink's stream already (from an
      // earlier state dir) stay; a replay before the first checkpoint skips
      // only what this store's run wrote.
      int64_t rows = 0;
      std::string why;
      if (!read_database_progress(cfg, s, rows, why)) {
        error = "sink " + s.name + ": cannot read its progress from " + database_target(s) + ": " + why +
                ". A first start needs the database, to know where its rows begin.";
        return false;
      }
      out.sink_positions[s.name] = sink_position{rows, 0};
      if (!store.put_setting(key, encode_sink_position(out.sink_positions[s.name]), error)) return false;
      continue;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(s.path, ec);
    const sink_position at{ec ? 0 : static_cast<int64_t>(size), last_segment_on_disk(s.path)};
    if (!store.put_setting(key, encode_sink_position(at), error)) return false;
  }
  return true;
}

} // namespace

bool recover(state_store& store, const vigil_config& cfg, const window_stage_config& windows,
             const std::vector<alert_output>& alert_outputs, recovered_state& out, std::string& error) {
  const auto checkpoints = store.checkpoints();
  if (!check_made_with(store, cfg, checkpoints, error)) return false;
  out = recovered_state{};
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    std::string why;
    if (load(store, it->id, cfg, windows, alert_outputs, out, why)) {
      if (it != checkpoints.rbegin())
        spdlog::warn("state: resuming from checkpoint {}, an older one", it->id);
      // Damaged newer ones (listed or not) go: the next checkpoint takes
      // the id after this one.
      return store.discard_newer_than(it->id, error);
    }
    spdlog::error("state: {}; falling back to the checkpoint before it", why);
  }
  if (!checkpoints.empty()) {
    error = "state dir " + store.dir() + ": no checkpoint in it can be read (see above). To start fresh, move "
            "the directory away (or delete it).";
    return false;
  }
  return start_fresh(store, cfg, out, error);
}

bool recover_at(state_store& store, const vigil_config& cfg, const window_stage_config& windows,
                const std::vector<alert_output>& alert_outputs, uint64_t id, recovered_state& out,
                std::string& error) {
  const auto checkpoints = store.checkpoints();
  if (!check_made_with(store, cfg, checkpoints, error)) return false;
  if (!checkpoints.empty() && checkpoints.back().id > id && !store.drop_newer_than(id, error)) return false;
  if (id == 0) return start_fresh(store, cfg, out, error);
  std::string why;
  if (load(store, id, cfg, windows, alert_outputs, out, why)) return true;
  error = "state dir " + store.dir() + ": the fleet resumes from checkpoint " + std::to_string(id) +
          ", which this node cannot read: " + why + ". To rebuild the fleet's state, move every aggregator's "
          "state dir away.";
  return false;
}

} // namespace vigil
