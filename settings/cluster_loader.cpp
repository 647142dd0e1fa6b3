#include "settings/cluster_loader.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "transport/curve_keys.hpp"

namespace vigil {

namespace {

std::string where(const std::string& file, const toml::node* n) {
  if (n && n->source().begin.line > 0)
    return file + ":" + std::to_string(n->source().begin.line) + ":" + std::to_string(n->source().begin.column);
  return file;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

/// The host of "tcp://HOST:PORT"; "" when `endpoint` is not of that form.
std::string tcp_host(const std::string& endpoint) {
  if (endpoint.rfind("tcp://", 0) != 0) return "";
  const std::string rest = endpoint.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return "";
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return "";
  const int p = std::stoi(port);
  if (p < 1 || p > 65535) return "";
  return rest.substr(0, colon);
}

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1";
}

bool wildcard(const std::string& h) { return h == "*" || h == "0.0.0.0" || h == "[::]" || h == "::" || h.empty(); }

/// "HOST:PORT" or "tcp://HOST:PORT" split; false when it is neither.
bool split_host_port(std::string text, std::string& host, int& port) {
  if (text.rfind("tcp://", 0) == 0) text = text.substr(6);
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return false;
  host = text.substr(0, colon);
  port = std::atoi(text.c_str() + colon + 1);
  return port > 0;
}

const toml::table* entry_of(const toml::table& root, const std::string& name) {
  const toml::array* nodes = root["cluster"]["node"].as_array();
  if (!nodes) return nullptr;
  for (const auto& n : *nodes)
    if (const auto* t = n.as_table(); t && (*t)["name"].value<std::string>() == name) return t;
  return nullptr;
}

} // namespace

std::vector<listen_address> listen_addresses(const cluster_node& node, const vigil_config& cfg, bool http_defaulted) {
  std::vector<listen_address> out;
  const std::string machine = tcp_host(node.endpoint);
  if (machine.empty()) return out;
  auto add = [&](const std::string& key, const std::string& text, bool defaulted) {
    listen_address a{node.name, key, "", machine, 0, defaulted};
    if (split_host_port(text, a.host, a.port)) out.push_back(std::move(a));
  };
  add("endpoint", node.endpoint, false);
  if (!cfg.node.http.empty()) add("http", cfg.node.http, http_defaulted);
  for (const auto& s : cfg.sources) {
    if (s.type == source_type::http) add("source[" + s.name + "].listen", s.listen, false);
    if (s.type == source_type::zmq && s.zmq.bind) add("source[" + s.name + "].endpoint", s.endpoint, false);
  }
  return out;
}

bool listen_clash(const listen_address& a, const listen_address& b) {
  const bool same_machine = a.machine == b.machine || (loopback(a.machine) && loopback(b.machine));
  // The kernel refuses one port twice on one address, or beside a wildcard
  // (loopback names are one address here).
  return same_machine && a.port == b.port
         && (a.host == b.host || wildcard(a.host) || wildcard(b.host) || (loopback(a.host) && loopback(b.host)));
}

cluster_config read_cluster(const toml::table& root, const std::string& file, std::vector<config_error>& errors) {
  cluster_config out;
  const toml::table* cluster = root["cluster"].as_table();
  if (!cluster) {
    errors.push_back({where(file, root.get("cluster")), "cluster", "expected a [cluster] table"});
    return out;
  }
  auto error = [&](const toml::node* n, const std::string& key, std::string message) {
    errors.push_back({where(file, n), key, std::move(message)});
  };
  for (auto&& [k, v] : *cluster)
    if (k.str() != "node" && k.str() != "allow_plaintext" && k.str() != "pre_aggregate")
      error(&v, "cluster." + std::string(k.str()), "unknown key (expected node, allow_plaintext, pre_aggregate)");
  for (auto [key, flag] : {std::pair<const char*, bool*>{"allow_plaintext", &out.allow_plaintext},
                           std::pair<const char*, bool*>{"pre_aggregate", &out.pre_aggregate}}) {
    const auto* p = cluster->get(key);
    if (!p) continue;
    if (auto b = p->value<bool>()) *flag = *b;
    else error(p, "cluster." + std::string(key), "expected true or false");
  }
  const toml::array* nodes = (*cluster)["node"].as_array();
  if (!nodes || nodes->empty() || !nodes->is_array_of_tables()) {
    error(cluster, "cluster.node", "expected [[cluster.node]] tables, one per node");
    return out;
  }
  std::map<std::string, std::string> endpoint_owner;
  std::set<std::string> names;
  std::vector<std::string> keyed, unkeyed;
  for (size_t i = 0; i < nodes->size(); ++i) {
    const toml::table& t = *nodes->get(i)->as_table();
    cluster_node n;
    n.name = t["name"].value_or(std::string());
    const std::string path = "cluster.node[" + (n.name.empty() ? std::to_string(i) : n.name) + "]";
    for (auto&& [k, v] : t) {
      static const std::set<std::string_view> known = {"name", "role", "endpoint", "public_key",
                                                       "secret_key_file", "state_dir", "http", "source", "sink"};
      if (!known.count(k.str())) error(&v, path + "." + std::string(k.str()), "unknown key");
    }
    if (!valid_name(n.name))
      error(t.get("name") ? t.get("name") : &t, path + ".name",
            "expected 1-64 characters of letters, digits, '.', '_' or '-'");
    else if (!names.insert(n.name).second)
      error(t.get("name"), path + ".name", "another node has this name");
    const std::string role = t["role"].value_or(std::string());
    if (role == "agent") n.role = node_role::agent;
    else if (role == "aggregator") n.role = node_role::aggregator;
    else error(t.get("role") ? t.get("role") : &t, path + ".role", "expected \"agent\" or \"aggregator\"");
    n.endpoint = t["endpoint"].value_or(std::string());
    const std::string host = tcp_host(n.endpoint);
    if (host.empty()) {
      error(t.get("endpoint") ? t.get("endpoint") : &t, path + ".endpoint",
            "expected \"tcp://HOST:PORT\" (where the node listens for its peers)");
    } else if (auto [it, fresh] = endpoint_owner.emplace(n.endpoint, n.name); !fresh) {
      error(t.get("endpoint"), path + ".endpoint", "clashes with node " + it->second + " (the same address)");
    }
    n.public_key = t["public_key"].value_or(std::string());
    n.secret_key_file = t["secret_key_file"].value_or(std::string());
    if (!n.public_key.empty() && n.public_key.size() != 40)
      error(t.get("public_key"), path + ".public_key", "expected a Curve public key (40 Z85 characters, from vigil keygen)");
    (n.public_key.empty() ? unkeyed : keyed).push_back(n.name);
    if (!n.public_key.empty() && !host.empty()) {
      // secret_key_file is read by that node only; here its presence is checked.
      if (!t.get("secret_key_file"))
        error(&t, path + ".secret_key_file", "missing: a node with a public_key needs its secret key file");
    }
    if (n.public_key.empty() && !host.empty() && !loopback(host) && !out.allow_plaintext)
      error(t.get("endpoint"), path + ".endpoint",
            "is not on loopback and the cluster has no Curve keys: traffic would be unauthenticated and in "
            "clear text. Add keys (vigil keygen), or set [cluster] allow_plaintext = true");
    out.nodes.push_back(std::move(n));
  }
  if (!keyed.empty() && !unkeyed.empty())
    error(cluster, "cluster.node",
          "Curve keys are set for " + keyed.front() + " but not for " + unkeyed.front() +
            ": give every node a public_key, or none");
  bool aggregator = false;
  for (const auto& n : out.nodes) aggregator = aggregator || n.role == node_role::aggregator;
  if (!aggregator) error(cluster, "cluster.node", "no node has role = \"aggregator\"");
  return out;
}

toml::table node_view(const toml::table& root, const std::string& name) {
  toml::table view = root;
  view.erase("cluster");
  const toml::table* entry = entry_of(root, name);
  if (!view.get("node") || !view.get("node")->is_table()) view.insert_or_assign("node", toml::table{});
  toml::table& node = *view.get("node")->as_table();
  node.insert_or_assign("name", name);
  for (const char* key : {"state_dir", "http"})
    if (entry && entry->get(key)) node.insert_or_assign(key, *entry->get(key));
  for (const char* key : {"source", "sink"})
    if (entry && entry->get(key)) view.insert_or_assign(key, *entry->get(key));
  return view;
}

std::string check_secret_key(const cluster_node& node) {
  if (node.public_key.empty()) return "";
  curve_key_pair keys;
  std::string error;
  if (!read_secret_key_file(node.secret_key_file, keys, error)) return error;
  if (keys.public_key != node.public_key)
    return "secret key file " + node.secret_key_file + " does not belong to the public_key of node " + node.name;
  return "";
}

} // namespace vigil
