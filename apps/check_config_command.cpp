#include "apps/check_config_command.hpp"

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "settings/config_loader.hpp"

namespace vigil {

void add_check_config_command(CLI::App& app, int& exit_code) {
  struct flags {
    std::string file;
    std::string environment;
    std::string node;
  };
  auto f = std::make_shared<flags>();
  auto* cmd = app.add_subcommand(
    "check-config",
    "Validate a node config (TOML): every error names the file, line, key and what is wrong.\n"
    "Applies the --env overlay and VIGIL_NODE_*/VIGIL_SOURCE_*/... overrides first. A cluster config\n"
    "([[cluster.node]]) is checked as a whole: every node, or the one --node names (then its\n"
    "secret key file too).");
  cmd->add_option("-c,--config", f->file, "the config file")->required();
  cmd->add_option("--env", f->environment,
                  "environment overlay to apply, e.g. production (default: $VIGIL_ENV)");
  cmd->add_option("--node", f->node, "in a cluster config, check this node only (with its secret key file)");
  cmd->callback([f, &exit_code] {
    config_load_options opts = options_from_process(f->environment);
    opts.node = f->node;
    auto result = load_config(f->file, opts);
    if (!result.config) {
      for (const auto& e : result.errors) std::cerr << to_string(e) << "\n";
      std::cerr << "vigil check-config: " << result.errors.size() << " error"
                << (result.errors.size() == 1 ? "" : "s") << " in " << f->file << "\n";
      exit_code = 2;
      return;
    }
    const auto& c = *result.config;
    if (!c.cluster.nodes.empty() && f->node.empty()) {
      size_t aggregators = 0;
      for (const auto& n : c.cluster.nodes) aggregators += n.role == node_role::aggregator;
      const size_t agents = c.cluster.nodes.size() - aggregators;
      std::cout << f->file << ": ok (cluster of " << c.cluster.nodes.size() << " nodes: " << agents
                << (agents == 1 ? " agent, " : " agents, ") << aggregators
                << (aggregators == 1 ? " aggregator" : " aggregators")
                << (c.cluster.nodes.front().public_key.empty() ? ", no Curve keys" : ", Curve keys") << "; "
                << c.windows.size() << " windows, " << c.rules.size() << " rules)\n";
      exit_code = 0;
      return;
    }
    std::cout << f->file << ": ok (node " << c.node.name
              << (c.environment.empty() ? "" : ", environment " + c.environment) << "; "
              << c.sources.size() << " sources, " << c.windows.size() << " windows, "
              << c.rules.size() << " rules, "
              << (c.detectors.empty() ? "" : std::to_string(c.detectors.size()) + " detectors, ") << c.sinks.size()
              << " sinks)\n";
    exit_code = 0;
  });
}

} // namespace vigil
