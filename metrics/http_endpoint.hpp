#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace vigil {

class guarded_server;
class metrics_registry;

/// A page an endpoint serves besides the three it always has: `GET path`
/// answers `body()`; with `stream`, as Server-Sent Events, one event of
/// `body()` a second for as long as the client stays.
struct http_page {
  std::string path;
  std::string content_type;
  std::function<std::string()> body;
  bool stream = false;
};

/// A node's HTTP port (`node.http`, "HOST:PORT"): `GET /metrics` (the
/// registry, Prometheus text format), `/healthz` (200 while the process
/// serves), `/readyz` (200 while `unready` returns "", else 503 with what
/// it returned). Serves on threads of its own, at most 16 connections per
/// client address and 5 s for a request to arrive whole (`guarded_server`);
/// the destructor stops it.
class http_endpoint {
public:
  /// Throws `std::runtime_error` naming the address when it cannot bind.
  http_endpoint(const std::string& address, std::shared_ptr<metrics_registry> metrics,
                std::function<std::string()> unready, std::vector<http_page> pages = {});
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  int port() const noexcept { return port_; }

private:
  std::unique_ptr<guarded_server> server_;
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::thread thread_;
  int port_ = 0;
};

} // namespace vigil
