#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "settings/config.hpp"
#include "settings/config_loader.hpp"

namespace vigil {

/// Reads and checks `[cluster]` of a config as a whole: node names
/// (unique, at most 64 bytes of [A-Za-z0-9._-]), roles (at least one
/// aggregator), endpoints ("tcp://HOST:PORT", no two alike), Curve public
/// keys (every node or none), and, without keys, endpoints on loopback
/// unless `allow_plaintext = true`. Problems go to `errors`.
cluster_config read_cluster(const toml::table& root, const std::string& file, std::vector<config_error>& errors);

/// The single-node config of cluster node `name` inside `root`: its
/// entry's `state_dir` and `http` over the shared `[node]` (name set to
/// `name`), its own `[[cluster.node.source]]` in place of `[[source]]`
/// when it has any, and no `[cluster]`. The entry must exist.
toml::table node_view(const toml::table& root, const std::string& name);

/// An address a cluster node listens on, and the host it runs on (its
/// endpoint's), to find two nodes of one host on one port.
struct listen_address {
  std::string node, key, host, machine;
  int port = 0;
  bool defaulted = false;  ///< node.http left at its default
};

/// What cluster node `node` (its view `cfg`) listens on: its endpoint, its
/// http (`http_defaulted`: set by neither its entry nor [node]), http
/// sources and bound zmq sources.
std::vector<listen_address> listen_addresses(const cluster_node& node, const vigil_config& cfg, bool http_defaulted);

/// Whether two nodes' addresses cannot both be bound: one host, one port,
/// and one address or a wildcard.
bool listen_clash(const listen_address& a, const listen_address& b);

/// Checks that the node's secret key file exists and holds the secret key
/// of its public key; "" when it does (or the node has no keys), else
/// what is wrong.
std::string check_secret_key(const cluster_node& node);

} // namespace vigil
