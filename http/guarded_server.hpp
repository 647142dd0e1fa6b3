#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <httplib.h>

namespace vigil {

/// An httplib server that no single client can take over: each client
/// address may hold at most `max_per_client` connections at once (more
/// are closed as soon as they are accepted), and a request must arrive
/// whole within `request_deadline` of its first byte being awaited, however
/// it trickles. httplib alone has neither: its read timeout is per read, so
/// a client sending a header line a second holds a thread for as long as
/// it likes, and enough such clients hold them all.
///
/// Replaces httplib's per-connection loop (it keeps its keep-alive limits
/// and its timeouts); routes, handlers and options are httplib's as usual.
class guarded_server : public httplib::Server {
public:
  struct limits {
    size_t max_per_client = 16;
    std::chrono::milliseconds request_deadline{5000};
  };
  /// What the guard turned away; shared, so a metrics hook can outlive
  /// the server.
  struct counts {
    std::atomic<uint64_t> refused{0};    ///< closed on accept: the client held its share
    std::atomic<uint64_t> timed_out{0};  ///< closed: a request did not arrive in time
  };
  explicit guarded_server(limits l) : limits_(l) {}

  const limits& guard() const noexcept { return limits_; }
  std::shared_ptr<const counts> turned_away() const noexcept { return counts_; }

private:
  bool process_and_close_socket(socket_t sock) override;
  /// Takes one of `client`'s slots; false when it holds them all.
  bool admit(const std::string& client);
  void release(const std::string& client);

  limits limits_;
  std::mutex mutex_;
  std::map<std::string, size_t> open_;  // by client address: connections being served
  std::shared_ptr<counts> counts_ = std::make_shared<counts>();
};

} // namespace vigil
