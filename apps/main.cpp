// vigil: one binary, subcommands. Exit codes: 0 success, 1 runtime failure,
// 2 usage or config error.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>

#include <unistd.h>

#include <malloc.h>

#include <CLI/CLI.hpp>

#include "apps/analyze_command.hpp"
#include "apps/anomaly_command.hpp"
#include "apps/command_suggestions.hpp"
#include "apps/check_config_command.hpp"
#include "apps/gen_command.hpp"
#include "apps/keygen_command.hpp"
#include "apps/run_command.hpp"
#include "apps/state_command.hpp"

namespace vigil {
extern const char* const build_commit;  // generated: cmake/git_version.cmake
}

namespace {

/// Out of memory anywhere (an actor's thread included) is a said, non-zero
/// exit, not an exception an actor dies of while the rest waits for it. No
/// allocation here: there may be none to be had. A node's state is its last
/// checkpoint, so a restart resumes from there.
void out_of_memory() {
  static const char msg[] =
    "vigil: out of memory (an allocation failed): stopping with exit 1. A node resumes from its last checkpoint; "
    "a window or group limit (max_groups, a larger slide) or more memory keeps it from recurring\n";
  [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
  std::_Exit(1);
}

/// What ended the process, said before the abort (a thread that could not
/// be started, a bug): the default handler's text is easy to miss.
[[noreturn]] void uncaught() {
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "vigil: fatal: %s\n", ex.what());
    } catch (...) {
      std::fprintf(stderr, "vigil: fatal: an unknown exception\n");
    }
  }
  std::abort();
}

} // namespace

int main(int argc, char** argv) {
  std::set_new_handler(out_of_memory);
  std::set_terminate(uncaught);
  // Hash tables grow by doubling and chunks come and go by the megabyte:
  // keep freed memory in the heap instead of returning it to the kernel
  // and faulting fresh pages in again (measured: ~15% of analyze time).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // A file over the size limit (ulimit -f) is then a write error that is
  // reported and retried (EFBIG), not a signal that kills the node.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"vigil: watch web logs and event streams, find what is going wrong.\n"
               "Run 'vigil COMMAND --help' for the options of a command."};
  app.set_version_flag("-V,--version", std::string("vigil ") + VIGIL_VERSION + " (commit " + vigil::build_commit + ")");
  app.require_subcommand(1);
  int exit_code = 0;
  vigil::add_analyze_command(app, exit_code);
  vigil::add_check_config_command(app, exit_code);
  vigil::add_run_command(app, exit_code);
  vigil::add_gen_command(app, exit_code);
  vigil::add_state_command(app, exit_code);
  vigil::add_anomaly_command(app, exit_code);
  vigil::add_keygen_command(app, exit_code);
  // CLI11 would say "A subcommand is required" for a misspelled one.
  if (argc > 1)
    if (std::string msg = vigil::unknown_command_message(app, argv[1]); !msg.empty()) {
      std::cerr << "vigil: " << msg << "\nRun 'vigil --help' for the commands.\n";
      return 2;
    }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    const std::string msg = vigil::unknown_option_message(app);
    if (msg.empty()) {
      app.exit(e);
      return 2;
    }
    std::cerr << msg;
    return 2;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return exit_code;
}
