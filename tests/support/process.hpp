#pragma once

// Starting and waiting for child processes (vigil itself) in tests and in
// the crash torture driver; no vigil library code needed.

#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace vigil::test {

/// Starts `args` (argv[0] a path) with stdout and stderr appended to `log`.
inline pid_t spawn_process(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

/// Waits for `pid`; its exit code, or -1 when a signal ended it.
inline int wait_process(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Stops a server the test started (SIGTERM, then waits) when it leaves scope.
struct stop_at_exit {
  pid_t pid;
  ~stop_at_exit() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      wait_process(pid);
    }
  }
};

} // namespace vigil::test
