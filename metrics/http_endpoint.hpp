#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace vigil {

class metrics_registry;

/// A node's HTTP port (`node.http`, "HOST:PORT"): `GET /metrics` (the
/// registry, Prometheus text format), `/healthz` (200 while the process
/// serves), `/readyz` (200 while `unready` returns "", else 503 with what
/// it returned). Serves on threads of its own; the destructor stops it.
class http_endpoint {
public:
  /// Throws `std::runtime_error` naming the address when it cannot bind.
  http_endpoint(const std::string& address, std::shared_ptr<metrics_registry> metrics,
                std::function<std::string()> unready);
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  int port() const noexcept { return port_; }

private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

} // namespace vigil
