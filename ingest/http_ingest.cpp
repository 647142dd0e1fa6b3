#include "ingest/http_ingest.hpp"

#include <cstring>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "http/listen_backlog.hpp"
#include "json/json_text.hpp"
#include "messages/errc.hpp"

namespace vigil {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string error_json(const std::string& message) {
  std::string out = "{\"error\":";
  append_json_string(out, message);
  return out + "}\n";
}

} // namespace

bool ingest_lines(const std::string& body, std::string& lines, uint64_t& count, std::string& error) {
  lines.clear();
  count = 0;
  const std::string_view all = trim(body);
  if (all.empty()) {
    error = "empty body (expected NDJSON or a JSON array of objects)";
    return false;
  }
  simdjson::ondemand::parser parser;
  if (all.front() == '[') {
    simdjson::padded_string padded(all);
    simdjson::ondemand::document doc;
    simdjson::ondemand::array array;
    if (parser.iterate(padded).get(doc) || doc.get_array().get(array)) {
      error = "line 1: not a JSON array";
      return false;
    }
    size_t index = 0;
    for (auto element : array) {
      simdjson::ondemand::object object;
      std::string_view raw;
      if (element.get_object().get(object) || object.raw_json().get(raw)) {
        error = "element " + std::to_string(index + 1) + ": not a JSON object";
        return false;
      }
      lines.append(raw);
      lines += '\n';
      ++count;
      ++index;
    }
    return true;
  }
  // NDJSON: lines that are not objects are quarantined by the pipeline
  // with their reason; only a body without a single object is refused.
  bool any_object = false;
  size_t first_bad = 0, line_no = 0;
  std::string first_reason;
  for (size_t pos = 0; pos < body.size();) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string_view line = trim(std::string_view(body).substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    ++count;
    if (!any_object) {
      simdjson::padded_string padded(line);
      simdjson::ondemand::document doc;
      simdjson::ondemand::object object;
      if (!parser.iterate(padded).get(doc) && !doc.get_object().get(object)) any_object = true;
      else if (first_bad == 0) {
        first_bad = line_no;
        first_reason = line.front() == '{' ? "malformed JSON object" : "not a JSON object";
      }
    }
  }
  if (!any_object) {
    error = "line " + std::to_string(first_bad) + ": " + first_reason + " (no line of the body is a JSON object)";
    return false;
  }
  lines = body;
  if (lines.back() != '\n') lines += '\n';
  return true;
}

http_ingest_server::http_ingest_server(caf::actor_system& sys, push_source_actor source, http_ingest_options opts)
  : server_(std::make_unique<httplib::Server>()) {
  const auto colon = opts.listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("source " + opts.source + ": listen: expected HOST:PORT");
  const std::string host = opts.listen.substr(0, colon);
  const int port = std::atoi(opts.listen.c_str() + colon + 1);
  server_->set_payload_max_length(opts.max_body_bytes);
  // Handlers wait for the pipeline: enough of them that a full pipeline
  // answers 429 (the source's own bound) instead of leaving requests in
  // httplib's queue, where their bodies are not read yet.
  server_->new_task_queue = [] { return new httplib::ThreadPool(32); };
  server_->set_read_timeout(std::chrono::seconds(10));
  server_->set_write_timeout(std::chrono::seconds(10));
  auto counters = opts.tally ? opts.tally : std::make_shared<source_tally>(opts.source);
  const std::string path = "/ingest/" + opts.source;
  server_->Post(path, [&sys, source, opts, counters](const httplib::Request& req, httplib::Response& res) {
    auto refuse = [&](int status, const std::string& why) {
      res.status = status;
      res.set_content(error_json(why), "application/json");
      ++(status == 429 || status == 503 ? counters->http_throttled : counters->http_rejected);
    };
    if (!opts.bearer_token.empty() && req.get_header_value("Authorization") != "Bearer " + opts.bearer_token) {
      res.set_header("WWW-Authenticate", "Bearer");
      return refuse(401, "missing or wrong bearer token");
    }
    std::string lines, error;
    uint64_t count = 0;
    if (!ingest_lines(req.body, lines, count, error)) return refuse(400, error);
    caf::scoped_actor self{sys};
    bool answered = false;
    self->request(source, opts.timeout, ingest_atom_v, std::move(lines))
      .receive(
        [&](uint64_t taken) {
          answered = true;
          res.status = 200;
          res.set_content("{\"accepted\":" + std::to_string(taken) + ",\"lines\":" + std::to_string(count) + "}\n",
                          "application/json");
          ++counters->http_accepted;
        },
        [&](caf::error& err) {
          answered = true;
          if (err == errc::busy) {
            res.set_header("Retry-After", "1");
            return refuse(429, "the pipeline is busy: retry later");
          }
          refuse(503, err == errc::unavailable ? "the node is stopping or did not take the events in time: retry"
                                               : "the pipeline did not answer in time: retry");
        });
    if (!answered) refuse(503, "no answer from the pipeline");
  });
  // Body over the limit: httplib answers 413 itself; say why.
  server_->set_error_handler([counters](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) {
      ++counters->http_rejected;
      res.set_content(error_json("body over max_body_bytes"), "application/json");
    }
    else if (res.status == 404) res.set_content(error_json("no such ingest path"), "application/json");
  });
  port_ = bind_with_backlog(*server_, host, port);
  if (port_ < 0)
    throw std::runtime_error("source " + opts.source + ": cannot listen on " + opts.listen + ": " + std::strerror(errno));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  spdlog::info("source {}: taking POST http://{}:{}{}", opts.source, host, port_, path);
}

http_ingest_server::~http_ingest_server() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

} // namespace vigil
