#include "apps/state_command.hpp"

#include <filesystem>
#include <iostream>

#include "clean/duplicate_filter.hpp"
#include "messages/alert.hpp"
#include "parse/timestamp.hpp"
#include "rules/rule_engine.hpp"
#include "state/source_state.hpp"
#include "state/state_codec.hpp"
#include "state/state_store.hpp"
#include "window/window_engine.hpp"

namespace vigil {

namespace {

std::string when(int64_t ms) {
  if (ms == INT64_MIN) return "none yet";
  if (ms == INT64_MAX) return "end of input";
  return format_rfc3339_utc(ms);
}

void print_part(const state_part& p, std::ostream& out) {
  if (p.kind == state_kind::source && p.participant.rfind("dedup:", 0) == 0) {
    duplicate_filter filter(1);
    state_reader r(p.bytes);
    filter.restore(r);
    out << "  " << p.participant << ": " << filter.remembered() << " line hashes within the horizon\n";
  } else if (p.kind == state_kind::source) {
    out << "  " << p.participant << ":\n";
    auto positions = decode_tail_positions(p.bytes);
    if (positions.empty()) out << "    no file yet\n";
    for (const auto& pos : positions)
      if (pos.path == "-")
        out << "    stdin, " << pos.offset << " bytes read (standard input is not read again)\n";
      else
        out << "    " << pos.path << "  offset " << pos.offset << "  (device " << pos.id.device << ", inode "
          << pos.id.inode << ", fingerprint " << std::hex << pos.id.fingerprint << std::dec << " of "
          << pos.id.fingerprint_length << " bytes)\n";
  } else if (p.kind == state_kind::window) {
    state_reader r(p.bytes);
    for (size_t n = r.count(); n > 0; --n) {
      auto s = window_engine::summarize(r);
      uint64_t groups = s.sessions;
      for (const auto& [start, g] : s.instances) groups += g;
      out << "  window " << s.window << ": watermark " << when(s.watermark) << ", " << s.instances.size()
          << " open windows, " << groups << " groups, " << s.requests << " requests in them, " << s.late
          << " late events dropped, " << s.groups_dropped << " groups over the cap\n";
      for (const auto& [start, g] : s.instances) out << "    " << when(start) << ": " << g << " groups\n";
      if (s.sessions > 0) out << "    " << s.sessions << " open sessions\n";
    }
  } else if (p.kind == state_kind::detector) {
    state_reader r(p.bytes);
    auto firing = rule_engine::firing_in(r);
    out << "  firing alerts: " << firing.size() << "\n";
    for (const auto& a : firing) out << "    " << to_text(a) << "  (id " << a.id << ")\n";
  } else if (p.kind == state_kind::alert) {
    out << "  alert stage: " << p.bytes.size() << " bytes (sent alerts, recently resolved ids, groups)\n";
  } else if (p.kind == state_kind::sink) {
    out << "  " << p.participant << ": file length " << p.bytes << " bytes\n";
  }
}

int inspect(const std::string& dir) {
  // Opening creates a store where there is none: look first, so a mistyped
  // directory is reported, not made.
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    std::cerr << "vigil state inspect: no state store in " << dir << " (a node's node.state_dir)\n";
    return 1;
  }
  std::string error;
  auto store = state_store::open(dir, error, /*read_only=*/true);
  if (!store) {
    std::cerr << "vigil state inspect: " << error << "\n";
    return 1;
  }
  auto checkpoints = store->checkpoints();
  std::cout << "state dir " << dir << " (format version " << state_store::format_version << ")\n";
  if (auto cfg = store->setting("config")) std::cout << "made with:\n" << *cfg;
  std::cout << "checkpoints: " << checkpoints.size() << "\n";
  for (const auto& c : checkpoints)
    std::cout << "  " << c.id << "  " << (c.time_ms ? format_rfc3339_utc(c.time_ms) : "unreadable") << "  "
              << c.parts << " parts, " << c.bytes << " bytes\n";
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    std::vector<state_part> parts;
    if (!store->read_checkpoint(it->id, parts, error)) {
      std::cout << "checkpoint " << it->id << " cannot be read: " << error << "\n";
      continue;
    }
    std::cout << "newest readable checkpoint " << it->id << ":\n";
    try {
      for (const auto& p : parts) print_part(p, std::cout);
    } catch (const std::exception& ex) {
      std::cout << "  (a part does not decode: " << ex.what() << ")\n";
      return 1;
    }
    return 0;
  }
  return 0;
}

} // namespace

void add_state_command(CLI::App& app, int& exit_code) {
  auto* state = app.add_subcommand("state", "Look into a node's state directory (RocksDB checkpoints).");
  state->require_subcommand(1);
  auto* ins = state->add_subcommand(
    "inspect", "Show the checkpoints (ids, times, sizes), and of the newest readable one: the source "
               "offsets, the open windows and their groups, and the firing alerts. Opens the store, so "
               "the node must not be running.");
  auto dir = std::make_shared<std::string>();
  ins->add_option("--state-dir", *dir, "the node's state_dir")->required();
  ins->callback([dir, &exit_code] { exit_code = inspect(*dir); });
}

} // namespace vigil
