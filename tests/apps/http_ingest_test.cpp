// A `type = "http"` source through a real socket: vigil run, curl-like
// requests with cpp-httplib's client, the records it writes.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string bin = VIGIL_BINARY;

std::string http_config(const test::temp_dir& dir, int port, const std::string& records_path, const std::string& extra = "",
                        const std::string& node_http = "") {
  const std::string cfg = "[node]\nname = \"ingest\"\nstate_dir = \"" + dir / "state" + "\"\nhttp = \"" + node_http + "\"\n"
                          "checkpoint_interval = \"200ms\"\n\n"
                          "[[source]]\nname = \"events\"\ntype = \"http\"\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n"
                          "schema = \"event\"\nmax_body_bytes = 200000\nparse_workers = 1\n" + extra + "\n"
                          "[[schema]]\nname = \"event\"\n[[schema.field]]\nname = \"id\"\ntype = \"string\"\nrequired = true\n"
                          "[[schema.field]]\nname = \"n\"\ntype = \"int\"\n\n"
                          "[[sink]]\nname = \"records\"\ntype = \"jsonl\"\ninput = \"records\"\npath = \"" + records_path + "\"\n\n"
                          "[[sink]]\nname = \"bad\"\ntype = \"jsonl\"\ninput = \"quarantine\"\npath = \"" + dir / "quarantine.jsonl" + "\"\n";
  test::write_file(dir / "ingest.toml", cfg);
  return dir / "ingest.toml";
}

std::string events(int from, int count, size_t pad = 0) {
  std::string body;
  for (int i = from; i < from + count; ++i)
    body += "{\"id\":\"e" + std::to_string(i) + "\",\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(pad, 'x') + "\"}\n";
  return body;
}

struct node {
  pid_t pid;
  httplib::Client client;
  node(const std::string& cfg, const std::string& log, int port) : pid(test::spawn_process({bin, "run", "-c", cfg}, log)),
    client("127.0.0.1", port) {
    client.set_read_timeout(std::chrono::seconds(40));
    REQUIRE(test::wait_until([&] { return test::contains(test::read_file(log), "taking POST"); }));
  }
  ~node() {
    ::kill(pid, SIGTERM);
    test::wait_process(pid);
  }
  httplib::Result post(const std::string& body, const std::string& token = "") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return client.Post("/ingest/events", h, body, "application/x-ndjson");
  }
};

} // namespace

TEST_CASE("http source: NDJSON and JSON arrays go in, bad lines are quarantined, and a body that is not JSON gets 400") {
  test::temp_dir dir;
  const int port = test::free_port(), metrics_port = test::free_port();
  node n(http_config(dir, port, dir / "records.jsonl", "", "127.0.0.1:" + std::to_string(metrics_port)), dir / "run.log",
         port);
  auto r = n.post(events(0, 3) + "{\"n\":1}\nnot json\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(nlohmann::json::parse(r->body).at("accepted") == 3);
  r = n.post("[{\"id\":\"a1\"},{\"id\":\"a2\",\"n\":2}]");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(nlohmann::json::parse(r->body).at("accepted") == 2);
  r = n.post("hello\nworld\n");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(test::contains(r->body, "line 1: not a JSON object"));
  r = n.post("[{\"id\":1},");
  REQUIRE(r);
  CHECK(r->status == 400);
  r = n.post(events(0, 2000, 200));  // ~450 KB
  REQUIRE(r);
  CHECK(r->status == 413);
  r = n.client.Post("/ingest/other", "{}", "application/json");
  REQUIRE(r);
  CHECK(r->status == 404);
  // An accepted request's events are in the records (the sink writes them
  // in order, right behind the window stage).
  REQUIRE(test::wait_until([&] { return test::occurrences(test::read_file(dir / "records.jsonl"), "\n") == 5; }));
  const auto records = test::read_file(dir / "records.jsonl");
  CHECK(test::contains(records, "\"id\":\"e0\",\"n\":0,\"pad\":\"\""));
  CHECK(test::contains(records, "\"id\":\"a2\",\"n\":2"));
  REQUIRE(test::wait_until([&] { return test::occurrences(test::read_file(dir / "quarantine.jsonl"), "\n") == 2; }));
  CHECK(test::contains(test::read_file(dir / "quarantine.jsonl"), "\"reason\":\"missing_field\",\"field\":\"id\""));
  // What /metrics says of it.
  httplib::Client scrape("127.0.0.1", metrics_port);
  auto page = scrape.Get("/metrics");
  REQUIRE(page);
  const std::string& m = page->body;
  CHECK(test::metric(m, "vigil_source_records_total{source=\"events\"}") == 5);
  CHECK(test::metric(m, "vigil_source_invalid_events_total{source=\"events\",reason=\"missing_field\"}") == 1);
  CHECK(test::metric(m, "vigil_source_invalid_events_total{source=\"events\",reason=\"bad_json\"}") == 1);
  CHECK(test::metric(m, "vigil_source_http_requests_total{source=\"events\",result=\"accepted\"}") == 2);
  CHECK(test::metric(m, "vigil_source_http_requests_total{source=\"events\",result=\"rejected\"}") == 3);
}

TEST_CASE("http source: without the bearer token a request gets 401 and nothing goes in") {
  test::temp_dir dir;
  const int port = test::free_port();
  node n(http_config(dir, port, dir / "records.jsonl", "bearer_token = \"s3cret\"\n"), dir / "run.log", port);
  auto r = n.post(events(0, 1));
  REQUIRE(r);
  CHECK(r->status == 401);
  r = n.post(events(0, 1), "wrong");
  REQUIRE(r);
  CHECK(r->status == 401);
  r = n.post(events(1, 1), "s3cret");
  REQUIRE(r);
  CHECK(r->status == 200);
  REQUIRE(test::wait_until([&] { return test::contains(test::read_file(dir / "records.jsonl"), "\"e1\""); }));
  CHECK_FALSE(test::contains(test::read_file(dir / "records.jsonl"), "\"e0\""));
}

TEST_CASE("http source: a stalled sink pushes back to the client as 429, and nothing taken is lost") {
  test::temp_dir dir;
  const int port = test::free_port();
  // The records sink writes into a pipe this test holds open and does not
  // read: once the pipe is full, the sink blocks, then the window stage,
  // the parse stage and the source's credit.
  const std::string fifo = dir / "records.pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  node n(http_config(dir, port, fifo), dir / "run.log", port);
  // Catch2 v2 assertions are not thread-safe: the client threads only
  // record what they saw, and this thread checks it.
  int accepted = 0, throttled = 0, next = 0;
  std::vector<std::string> others, retry_after;
  std::vector<std::thread> clients;
  std::mutex lock;
  for (int c = 0; c < 16; ++c)
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(std::chrono::seconds(60));
      for (int k = 0; k < 4; ++k) {
        int from;
        {
          std::lock_guard<std::mutex> g(lock);
          from = next;
          next += 200;
        }
        const auto t0 = std::chrono::steady_clock::now();
        auto r = client.Post("/ingest/events", events(from, 200, 300), "application/x-ndjson");
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard<std::mutex> g(lock);
        if (r && r->status == 200) accepted += 200;
        if (r && r->status == 429) {
          ++throttled;
          retry_after.push_back(r->get_header_value("Retry-After"));
        }
        if (!r || (r->status != 200 && r->status != 429))
          others.push_back((r ? std::to_string(r->status) + " " + r->body : httplib::to_string(r.error()))
                           + " (request " + std::to_string(k + 1) + " of its client, after " + std::to_string(ms) + " ms)");
      }
      (void) c;
    });
  // The clients that got through wait for the sink; the others were told
  // to come back. Draining the pipe lets everything taken through.
  REQUIRE(test::wait_until([&] { std::lock_guard<std::mutex> g(lock); return throttled > 0; }));
  std::atomic<size_t> drained_lines{0};
  std::atomic<bool> done{false};
  std::thread drain([&] {
    char buf[65536];
    while (!done) {
      ssize_t got = ::read(reader, buf, sizeof buf);
      if (got > 0) drained_lines += static_cast<size_t>(std::count(buf, buf + got, '\n'));
      else std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& t : clients) t.join();
  REQUIRE(accepted > 0);
  REQUIRE(test::wait_until([&] { return drained_lines == static_cast<size_t>(accepted); }));
  done = true;
  drain.join();
  ::close(reader);
  CHECK(throttled > 0);
  for (const auto& value : retry_after) CHECK(value == "1");
  for (const auto& o : others) WARN(o);
  CHECK(others.empty());
  CHECK(accepted + 200 * throttled == 16 * 4 * 200);
}

TEST_CASE("http source: with ack = checkpoint a 200 comes once the events are in a stored checkpoint") {
  test::temp_dir dir;
  const int port = test::free_port();
  node n(http_config(dir, port, dir / "records.jsonl", "ack = \"checkpoint\"\n"), dir / "run.log", port);
  auto r = n.post(events(0, 10));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(nlohmann::json::parse(r->body).at("accepted") == 10);
  // The checkpoint that holds them is stored, so its records are written.
  CHECK(test::occurrences(test::read_file(dir / "records.jsonl"), "\n") == 10);
  auto bad = test::run_command(bin + " check-config -c /dev/stdin <<'EOF' 2>&1\n"
                               "[node]\nname = \"x\"\nstate_dir = \"s\"\ncheckpoint_interval = \"0s\"\n"
                               "[[source]]\nname = \"events\"\ntype = \"http\"\nschema = \"e\"\nack = \"checkpoint\"\n"
                               "[[schema]]\nname = \"e\"\n[[schema.field]]\nname = \"id\"\ntype = \"string\"\nEOF");
  CHECK(bad.exit_code == 2);
  CHECK(test::contains(bad.out, "ack = \"checkpoint\" needs checkpoints"));
}

TEST_CASE("http source: --once refuses a source that never ends, and check-config refuses one without a schema") {
  test::temp_dir dir;
  const std::string cfg = http_config(dir, test::free_port(), dir / "records.jsonl");
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "an http source has no end: --once cannot finish it"));
  std::string text = test::read_file(cfg);
  text.replace(text.find("schema = \"event\"\n"), 17, "");
  test::write_file(dir / "noschema.toml", text);
  r = test::run_command(bin + " check-config -c '" + dir / "noschema.toml" + "' 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "an http source takes JSON events: it needs a schema"));
}
