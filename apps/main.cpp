// vigil: one binary, subcommands. Exit codes: 0 success, 1 runtime failure,
// 2 usage or config error.

#include <iostream>

#include <malloc.h>

#include <CLI/CLI.hpp>

#include "apps/analyze_command.hpp"
#include "apps/check_config_command.hpp"
#include "apps/gen_command.hpp"
#include "apps/keygen_command.hpp"
#include "apps/run_command.hpp"
#include "apps/state_command.hpp"

int main(int argc, char** argv) {
  // Hash tables grow by doubling and chunks come and go by the megabyte:
  // keep freed memory in the heap instead of returning it to the kernel
  // and faulting fresh pages in again (measured: ~15% of analyze time).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"vigil: watch web logs and event streams, find what is going wrong.\n"
               "Run 'vigil COMMAND --help' for the options of a command."};
  app.set_version_flag("--version", "vigil 0.1.0");
  app.require_subcommand(1);
  int exit_code = 0;
  vigil::add_analyze_command(app, exit_code);
  vigil::add_check_config_command(app, exit_code);
  vigil::add_run_command(app, exit_code);
  vigil::add_gen_command(app, exit_code);
  vigil::add_state_command(app, exit_code);
  vigil::add_keygen_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return exit_code;
}
