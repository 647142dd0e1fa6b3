#include "settings/config.hpp"

namespace vigil {

const char* to_string(window_type t) {
  switch (t) {
    case window_type::tumbling: return "tumbling";
    case window_type::sliding: return "sliding";
    case window_type::session: return "session";
  }
  return "?";
}

const char* to_string(severity s) {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "?";
}

const std::vector<config_kind<source_type>>& source_kinds() {
  static const std::vector<config_kind<source_type>> kinds = {
    {"file", source_type::file, true},
    {"stdin", source_type::stdin_stream, true},
    {"zmq", source_type::zmq, true},
    {"http", source_type::http, true},
  };
  return kinds;
}

const std::vector<config_kind<sink_type>>& sink_kinds() {
  static const std::vector<config_kind<sink_type>> kinds = {
    {"console", sink_type::console, true},    {"jsonl", sink_type::jsonl, true},
    {"webhook", sink_type::webhook, true},    {"alertmanager", sink_type::alertmanager, true},
    {"csv", sink_type::csv, true},            {"sqlite", sink_type::sqlite, true},
    {"postgres", sink_type::postgres, true}, {"zmq", sink_type::zmq, true},
  };
  return kinds;
}

namespace {
/// The name the config uses for `type`: the kind tables are the one list.
template <class E>
const char* name_in(const std::vector<config_kind<E>>& kinds, E type) {
  for (const auto& k : kinds)
    if (k.type == type) return k.name;
  return "?";
}

template <class E>
std::string names_of_built(const std::vector<config_kind<E>>& kinds) {
  std::vector<std::string> names;
  for (const auto& k : kinds)
    if (k.built) names.emplace_back(k.name);
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}
} // namespace

const char* to_string(source_type t) { return name_in(source_kinds(), t); }
const char* to_string(sink_type t) { return name_in(sink_kinds(), t); }

std::string built_kind_names(const std::vector<config_kind<source_type>>& kinds) { return names_of_built(kinds); }
std::string built_kind_names(const std::vector<config_kind<sink_type>>& kinds) { return names_of_built(kinds); }

const std::vector<std::string>& groupable_fields() {
  static const std::vector<std::string> fields = {
    "ip", "path", "route", "status", "status_class", "method", "host", "protocol", "user_agent",
    "referer", "ua_class",
  };
  return fields;
}

std::vector<std::string> aggregator_names(const cluster_config& c) {
  std::vector<std::string> out;
  for (const auto& n : c.nodes)
    if (n.role == node_role::aggregator) out.push_back(n.name);
  return out;
}

} // namespace vigil
