#include "pipeline/cluster_node.hpp"

#include <random>
#include <stdexcept>

namespace vigil {

namespace {

const cluster_node& node_named(const cluster_config& cluster, const std::string& name) {
  for (const auto& n : cluster.nodes)
    if (n.name == name) return n;
  throw std::runtime_error("node " + name + " is not in the cluster config");
}

} // namespace

std::shared_ptr<node_link> open_node_link(const cluster_config& cluster, const std::string& self,
                                          const std::vector<std::string>& peers) {
  const cluster_node& me = node_named(cluster, self);
  node_link_config cfg;
  cfg.node = me.name;
  cfg.endpoint = me.endpoint;
  cfg.curve = read_curve_identity(me.public_key, me.secret_key_file);
  for (const auto& name : peers) {
    const cluster_node& p = node_named(cluster, name);
    cfg.peers.push_back({p.name, p.endpoint, p.public_key});
  }
  return std::make_shared<node_link>(std::move(cfg));
}

uint64_t random_id() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (uint64_t{rd()} << 32) ^ rd();
  return id;
}

} // namespace vigil
