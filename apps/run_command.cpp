#include "apps/run_command.hpp"

#include <csignal>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "pipeline/cluster_node.hpp"
#include "pipeline/live_pipeline.hpp"
#include "logging/json_log.hpp"
#include "settings/config_loader.hpp"

namespace vigil {

void add_run_command(CLI::App& app, int& exit_code) {
  struct flags {
    std::string file, environment, node, log_level = "info";
    bool once = false;
    bool log_json = false;
  };
  auto f = std::make_shared<flags>();
  auto* cmd = app.add_subcommand(
    "run",
    "Run a node of the pipeline the config describes, until SIGINT/SIGTERM:\n"
    "follow the sources, keep the windows, check the rules, write alerts and results.");
  cmd->add_option("-c,--config", f->file, "the config file (see config/vigil.example.toml)")->required();
  cmd->add_option("--env", f->environment, "environment overlay to apply (default: $VIGIL_ENV)");
  cmd->add_option("--node", f->node,
                  "this node's name: in a cluster config, which [[cluster.node]] to run (required there: an agent "
                  "reads its sources and sends batches to the aggregators, which keep the windows and alerts, each "
                  "its partition of the keys); "
                  "otherwise it overrides node.name");
  cmd->add_flag("--once", f->once,
                "read the sources to their end, close every window, and exit (reprocessing, tests); in a cluster, "
                "every node: the aggregators close the windows once every agent read to its end");
  cmd->add_option("--log-level", f->log_level, "trace, debug (one line per checkpoint), info, warn or error")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
    ->capture_default_str();
  cmd->add_flag("--log-json", f->log_json,
                "log one JSON object a line (time, level, node, component, msg) for machines, instead of text "
                "for people");
  cmd->callback([f, &exit_code] {
    spdlog::set_level(spdlog::level::from_str(f->log_level));
    config_load_options opts = options_from_process(f->environment);
    opts.node = f->node;
    auto loaded = load_config(f->file, opts);
    if (!loaded.config) {
      for (const auto& e : loaded.errors) std::cerr << to_string(e) << "\n";
      exit_code = 2;
      return;
    }
    // Signals are taken by the main thread with sigwait: block them before
    // any actor thread starts, so they all inherit the mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    const vigil_config& cfg = *loaded.config;
    if (f->log_json) use_json_logs(cfg.node.name);
    if (cfg.cluster.nodes.empty()) {
      exit_code = run_live(cfg, live_run_options{f->once});
      return;
    }
    cluster_run_options copts;
    copts.once = f->once;
    node_role role = node_role::agent;
    for (const auto& n : cfg.cluster.nodes)
      if (n.name == cfg.node.name) role = n.role;
    if (role == node_role::agent) {
      exit_code = run_agent(cfg, copts);
      return;
    }
    std::vector<vigil_config> agents;
    for (const auto& peer : loaded.peers)
      for (const auto& n : cfg.cluster.nodes)
        if (n.name == peer.node.name && n.role == node_role::agent) agents.push_back(peer);
    exit_code = run_aggregator(cfg, agents, copts);
  });
}

} // namespace vigil
