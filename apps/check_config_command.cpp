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
  };
  auto f = std::make_shared<flags>();
  auto* cmd = app.add_subcommand(
    "check-config",
    "Validate a node config (TOML): every error names the file, line, key and what is wrong.\n"
    "Applies the --env overlay and VIGIL_NODE_*/VIGIL_SOURCE_*/... overrides first.");
  cmd->add_option("-c,--config", f->file, "the config file")->required();
  cmd->add_option("--env", f->environment,
                  "environment overlay to apply, e.g. production (default: $VIGIL_ENV)");
  cmd->callback([f, &exit_code] {
    config_load_options opts = options_from_process(f->environment);
    auto result = load_config(f->file, opts);
    if (!result.config) {
      for (const auto& e : result.errors) std::cerr << to_string(e) << "\n";
      std::cerr << "vigil check-config: " << result.errors.size() << " error"
                << (result.errors.size() == 1 ? "" : "s") << " in " << f->file << "\n";
      exit_code = 2;
      return;
    }
    const auto& c = *result.config;
    std::cout << f->file << ": ok (node " << c.node.name
              << (c.environment.empty() ? "" : ", environment " + c.environment) << "; "
              << c.sources.size() << " sources, " << c.windows.size() << " windows, "
              << c.rules.size() << " rules, " << c.sinks.size() << " sinks)\n";
    exit_code = 0;
  });
}

} // namespace vigil
