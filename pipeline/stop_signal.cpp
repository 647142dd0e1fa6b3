#include "pipeline/stop_signal.hpp"

#include <csignal>
#include <ctime>

namespace vigil {

int take_stop_signal(std::chrono::milliseconds wait) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const timespec step{static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1000000};
  const int sig = sigtimedwait(&set, nullptr, &step);
  return sig == SIGINT || sig == SIGTERM ? sig : 0;
}

const char* stop_signal_name(int sig) noexcept { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

} // namespace vigil
