#include "apps/keygen_command.hpp"

#include <iostream>
#include <memory>
#include <stdexcept>

#include "transport/curve_keys.hpp"

namespace vigil {

void add_keygen_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
    "keygen", "Write a CurveZMQ key pair for a node: DIR/NAME.key (secret, mode 0600; never overwritten) "
              "and DIR/NAME.pub. Put the public key in the cluster config, under the node; keep the "
              "secret key on the node only.");
  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>(".");
  cmd->add_option("--node", *name, "the node's name (the files are named after it)")->required();
  cmd->add_option("--dir", *dir, "where to write the files (default: .)");
  cmd->callback([name, dir, &exit_code] {
    if (!curve_available()) {
      std::cerr << "vigil keygen: this libzmq has no CurveZMQ (built without libsodium)\n";
      exit_code = 1;
      return;
    }
    try {
      const auto keys = write_curve_key_files(*dir, *name);
      std::cout << "wrote " << *dir << "/" << *name << ".key (secret) and " << *dir << "/" << *name
                << ".pub\npublic key: " << keys.public_key << "\n";
      exit_code = 0;
    } catch (const std::exception& ex) {
      std::cerr << "vigil keygen: " << ex.what() << "\n";
      exit_code = 1;
    }
  });
}

} // namespace vigil
