#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <caf/fwd.hpp>

#include "actors/parse_stage.hpp"
#include "messages/interfaces.hpp"

namespace httplib {
class Server;
}

namespace vigil {

struct http_ingest_options {
  std::string source;           ///< the [[source]] name: POST /ingest/NAME
  std::string listen;           ///< "HOST:PORT"
  uint64_t max_body_bytes = 16u << 20;
  std::string bearer_token;     ///< "": no authentication
  /// How long a request waits for the pipeline before a 503.
  std::chrono::milliseconds timeout{30000};
  /// Where the requests are counted (the source's tally, for `/metrics`).
  std::shared_ptr<source_tally> tally;
};


/// The HTTP server of a `type = "http"` source: `POST /ingest/NAME` with
/// NDJSON (one event a line) or a JSON array of objects. Answers 200
/// `{"accepted": N}` once the source took the events, 400 with the line and
/// reason for a body that is not JSON at all, 401 without the bearer token
/// (when one is set), 413 over `max_body_bytes`, 429 when the pipeline's
/// credit is used up (with Retry-After), 503 when the node is stopping or
/// the pipeline did not take the events in time. Events that are JSON but
/// do not fit the schema are taken and quarantined like any source's.
class http_ingest_server {
public:
  /// Throws std::runtime_error naming the address when it cannot bind.
  http_ingest_server(caf::actor_system& sys, push_source_actor source, http_ingest_options opts);
  ~http_ingest_server();
  http_ingest_server(const http_ingest_server&) = delete;
  http_ingest_server& operator=(const http_ingest_server&) = delete;

  int port() const noexcept { return port_; }

private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

/// The NDJSON lines of a request body: NDJSON as it is (a final newline
/// added), a JSON array as one line per element. Returns false with
/// `error` ("line 3: not a JSON object") when no line of it is a JSON
/// object, or an array does not parse.
bool ingest_lines(const std::string& body, std::string& lines, uint64_t& count, std::string& error);

} // namespace vigil
