#include "metrics/http_endpoint.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "http/guarded_server.hpp"
#include "http/listen_backlog.hpp"
#include "metrics/registry.hpp"

namespace vigil {

http_endpoint::http_endpoint(const std::string& address, std::shared_ptr<metrics_registry> metrics,
                             std::function<std::string()> unready, std::vector<http_page> pages)
  : server_(std::make_unique<guarded_server>(guarded_server::limits{})) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error("node.http \"" + address + "\": expected HOST:PORT");
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    throw std::runtime_error("node.http \"" + address + "\": the port is not a number");
  }
  // httplib's default adds SO_REUSEPORT: a second node on the same port
  // would then share it silently, and scrapes would land on either.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  // A client that trickles its headers holds one of the threads until the
  // guard's deadline, and one client at most its share: a scraper and a
  // dashboard still get answers while a few addresses misbehave. Short
  // timeouts, and httplib's 8 KiB cap on headers. The pipeline never waits
  // on any of this: the endpoint has threads of its own.
  server_->new_task_queue = [] { return new httplib::ThreadPool(64); };
  server_->set_read_timeout(std::chrono::seconds(2));
  server_->set_write_timeout(std::chrono::seconds(2));
  server_->set_keep_alive_timeout(2);
  server_->set_keep_alive_max_count(100);
  const auto& guard = server_->guard();
  metrics->describe("vigil_http_connections_refused_total", metrics_registry::kind::counter,
                    "HTTP connections closed on accept: their client address held " +
                      std::to_string(guard.max_per_client) + " already.");
  metrics->describe("vigil_http_requests_timed_out_total", metrics_registry::kind::counter,
                    "HTTP connections closed because a request did not arrive whole within " +
                      std::to_string(guard.request_deadline.count()) + " ms.");
  metrics->on_render([counts = server_->turned_away()](metrics_registry& m) {
    m.set("vigil_http_connections_refused_total", {}, static_cast<double>(counts->refused.load()));
    m.set("vigil_http_requests_timed_out_total", {}, static_cast<double>(counts->timed_out.load()));
  });
  server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  server_->Get("/readyz", [unready](const httplib::Request&, httplib::Response& res) {
    const std::string why = unready();
    res.status = why.empty() ? 200 : 503;
    res.set_content(why.empty() ? "ready\n" : "not ready: " + why + "\n", "text/plain");
  });
  for (auto& page : pages) {
    if (!page.stream) {
      server_->Get(page.path, [page](const httplib::Request&, httplib::Response& res) {
        res.set_content(page.body(), page.content_type.c_str());
      });
      continue;
    }
    server_->Get(page.path, [page, stopping = stopping_](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_chunked_content_provider("text/event-stream", [page, stopping](size_t, httplib::DataSink& sink) {
        if (*stopping) return false;
        const std::string event = "data: " + page.body() + "\n\n";
        if (!sink.write(event.data(), event.size())) return false;
        for (int i = 0; i < 10 && !*stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return !*stopping;
      });
    });
  }
  port_ = bind_with_backlog(*server_, host, port);
  if (port_ <= 0) throw std::runtime_error("node.http " + address + ": cannot listen there (in use, or not an address of this host)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

http_endpoint::~http_endpoint() {
  *stopping_ = true;  // event streams end within 100 ms
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

} // namespace vigil
