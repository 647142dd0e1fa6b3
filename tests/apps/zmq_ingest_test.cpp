// `type = "zmq"` sources and sinks through real ZeroMQ sockets on
// loopback: vigil run, PUSH/PUB peers made here, the records it writes.

#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <zmq.hpp>

#include "support/process.hpp"
#include "support/test_support.hpp"
#include "transport/curve_keys.hpp"
#include "transport/zap_handler.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;

const std::string schema =
  "[[schema]]\nname = \"event\"\n[[schema.field]]\nname = \"id\"\ntype = \"string\"\nrequired = true\n"
  "[[schema.field]]\nname = \"n\"\ntype = \"int\"\n\n";

std::string tcp(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

std::string node_section(const test::temp_dir& dir, const std::string& http = "") {
  return "[node]\nname = \"zmq\"\nstate_dir = \"" + dir / "state" + "\"\nhttp = \"" + http + "\"\n"
         "checkpoint_interval = \"200ms\"\n\n";
}

std::string file_sinks(const test::temp_dir& dir) {
  return "[[sink]]\nname = \"records\"\ntype = \"jsonl\"\ninput = \"records\"\npath = \"" + dir / "records.jsonl" + "\"\n\n"
         "[[sink]]\nname = \"bad\"\ntype = \"jsonl\"\ninput = \"quarantine\"\npath = \"" + dir / "quarantine.jsonl" + "\"\n";
}

std::set<std::string> ids_in(const std::string& jsonl) {
  std::set<std::string> ids;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) ids.insert(json::parse(line).at("id").get<std::string>());
  return ids;
}

std::string msgpack_of(const json& value) {
  const auto bytes = json::to_msgpack(value);
  return std::string(bytes.begin(), bytes.end());
}

/// vigil run on `cfg`, stopped with SIGTERM at scope exit.
struct node {
  pid_t pid;
  std::string log;
  node(const std::string& cfg, std::string log_path, size_t sockets) : log(std::move(log_path)) {
    pid = test::spawn_process({bin, "run", "-c", cfg}, log);
    REQUIRE(test::wait_until([&] { return test::occurrences(test::read_file(log), " messages (") == sockets; }));
  }
  ~node() {
    ::kill(pid, SIGTERM);
    test::wait_process(pid);
  }
};

} // namespace

TEST_CASE("zmq source: NDJSON and msgpack messages from PUSH peers become records, bad and oversized ones are quarantined") {
  test::temp_dir dir;
  const int json_port = test::free_port(), msgpack_port = test::free_port(), out_port = test::free_port(),
            http_port = test::free_port();
  zmq::context_t ctx;
  // The zmq sink's peer: it binds, vigil connects.
  zmq::socket_t out(ctx, zmq::socket_type::pull);
  out.bind(tcp(out_port));
  const std::string cfg = dir / "zmq.toml";
  test::write_file(cfg, node_section(dir, "127.0.0.1:" + std::to_string(http_port)) +
    "[[source]]\nname = \"lines\"\ntype = \"zmq\"\nendpoint = \"" + tcp(json_port) + "\"\nschema = \"event\"\n\n"
    "[[source]]\nname = \"packed\"\ntype = \"zmq\"\nendpoint = \"" + tcp(msgpack_port) + "\"\nencoding = \"msgpack\"\n"
    "max_frame_bytes = 4096\nschema = \"event\"\n\n" + schema + file_sinks(dir) +
    "\n[[sink]]\nname = \"out\"\ntype = \"zmq\"\ninput = \"records\"\nurl = \"" + tcp(out_port) + "\"\n");
  node n(cfg, dir / "run.log", 2);

  zmq::socket_t lines(ctx, zmq::socket_type::push), packed(ctx, zmq::socket_type::push);
  lines.connect(tcp(json_port));
  packed.connect(tcp(msgpack_port));
  lines.send(zmq::str_buffer("{\"id\":\"e0\",\"n\":0}\n{\"id\":\"e1\",\"n\":1}\n{\"n\":2}\n"));
  lines.send(zmq::str_buffer("{\"id\":\"e3\",\"n\":3}"));
  packed.send(zmq::buffer(msgpack_of({{"id", "m0"}, {"n", 0}})));
  packed.send(zmq::buffer(msgpack_of(json::array({{{"id", "m1"}}, {{"id", "m2"}, {"n", 2}}}))));
  packed.send(zmq::str_buffer("\xc1 not msgpack"));
  packed.send(zmq::buffer(msgpack_of({{"id", "big"}, {"pad", std::string(5000, 'x')}})));  // over 4096

  const std::set<std::string> expected = {"e0", "e1", "e3", "m0", "m1", "m2"};
  REQUIRE(test::wait_until([&] { return ids_in(test::read_file(dir / "records.jsonl")) == expected; }));
  REQUIRE(test::wait_until([&] { return test::occurrences(test::read_file(dir / "quarantine.jsonl"), "\n") == 3; }));
  const std::string bad = test::read_file(dir / "quarantine.jsonl");
  CHECK(test::contains(bad, "\"reason\":\"missing_field\",\"field\":\"id\""));
  CHECK(test::contains(bad, "not one msgpack value"));
  CHECK(test::contains(bad, "over max_frame_bytes (4096)"));
  CHECK(test::occurrences(bad, "\"reason\":\"bad_json\"") == 2);

  // The zmq sink sent every record, one message each.
  std::set<std::string> sent;
  out.set(zmq::sockopt::rcvtimeo, 10000);
  while (sent.size() < expected.size()) {
    zmq::message_t m;
    if (!out.recv(m)) break;
    sent.insert(json::parse(m.to_string()).at("id").get<std::string>());
  }
  CHECK(sent == expected);

  httplib::Client scrape("127.0.0.1", http_port);
  auto page = scrape.Get("/metrics");
  REQUIRE(page);
  const std::string& m = page->body;
  CHECK(test::metric(m, "vigil_source_zmq_messages_total{source=\"lines\",result=\"taken\"}") == 2);
  CHECK(test::metric(m, "vigil_source_zmq_messages_total{source=\"packed\",result=\"taken\"}") == 2);
  CHECK(test::metric(m, "vigil_source_zmq_messages_total{source=\"packed\",result=\"bad\"}") == 1);
  CHECK(test::metric(m, "vigil_source_zmq_messages_total{source=\"packed\",result=\"too_large\"}") == 1);
  CHECK(test::metric(m, "vigil_source_records_total{source=\"packed\"}") == 3);
  // Per field: the event without an id, the record without an n.
  CHECK(test::metric(m, "vigil_source_field_events_total{source=\"lines\",field=\"id\",kind=\"invalid\"}") == 1);
  CHECK(test::metric(m, "vigil_source_field_events_total{source=\"packed\",field=\"n\",kind=\"null\"}") == 1);
}

TEST_CASE("zmq source with CurveZMQ: a peer whose key is allowed gets in, another is refused and counted") {
  REQUIRE(curve_available());
  test::temp_dir dir;
  const int port = test::free_port(), http_port = test::free_port();
  const auto server = write_curve_key_files(dir.path.string(), "source");
  const auto allowed = make_curve_keys(), stranger = make_curve_keys();
  const std::string cfg = dir / "zmq.toml";
  test::write_file(cfg, node_section(dir, "127.0.0.1:" + std::to_string(http_port)) +
    "[[source]]\nname = \"events\"\ntype = \"zmq\"\nendpoint = \"" + tcp(port) + "\"\nschema = \"event\"\n"
    "curve_secret_key_file = \"" + dir / "source.key" + "\"\ncurve_allowed_keys = [\"" + allowed.public_key + "\"]\n\n" +
    schema + file_sinks(dir));
  node n(cfg, dir / "run.log", 1);

  zmq::context_t ctx;
  zmq::socket_t bad(ctx, zmq::socket_type::push), good(ctx, zmq::socket_type::push), plain(ctx, zmq::socket_type::push);
  for (auto* s : {&bad, &good, &plain}) s->set(zmq::sockopt::linger, 0);
  make_curve_client(bad, stranger.public_key, stranger.secret_key, server.public_key);
  make_curve_client(good, allowed.public_key, allowed.secret_key, server.public_key);
  bad.connect(tcp(port));
  plain.connect(tcp(port));
  // Queued at once: a refused handshake never delivers them.
  bad.send(zmq::str_buffer("{\"id\":\"stranger\"}"), zmq::send_flags::dontwait);
  plain.send(zmq::str_buffer("{\"id\":\"plaintext\"}"), zmq::send_flags::dontwait);
  httplib::Client scrape("127.0.0.1", http_port);
  REQUIRE(test::wait_until([&] {
    auto page = scrape.Get("/metrics");
    return page && test::metric(page->body, "vigil_source_zmq_refused_peers_total{source=\"events\"}") >= 1;
  }));
  good.connect(tcp(port));
  good.send(zmq::str_buffer("{\"id\":\"friend\"}"));
  REQUIRE(test::wait_until([&] { return test::contains(test::read_file(dir / "records.jsonl"), "friend"); }));
  const auto ids = ids_in(test::read_file(dir / "records.jsonl"));
  CHECK(ids == std::set<std::string>{"friend"});
  CHECK(test::contains(test::read_file(dir / "run.log"), "source events: refused a peer whose Curve key is not in the config"));
}

TEST_CASE("zmq source, SUB: it takes the subscribed topic from a PUB peer, in order, and nothing else") {
  test::temp_dir dir;
  const int port = test::free_port();
  zmq::context_t ctx;
  zmq::socket_t pub(ctx, zmq::socket_type::pub);
  pub.bind(tcp(port));
  const std::string cfg = dir / "zmq.toml";
  test::write_file(cfg, node_section(dir) +
    "[[source]]\nname = \"feed\"\ntype = \"zmq\"\nsocket = \"sub\"\nendpoint = \"" + tcp(port) + "\"\n"
    "subscribe = [\"orders\"]\nschema = \"event\"\nparse_workers = 1\n\n" + schema + file_sinks(dir));
  node n(cfg, dir / "run.log", 1);
  // A subscriber joins late (ZeroMQ's slow joiner): publish until records come.
  int sent = 0;
  REQUIRE(test::wait_until([&] {
    for (int i = 0; i < 5; ++i, ++sent) {
      const std::string k = std::to_string(sent);
      pub.send(zmq::str_buffer("orders"), zmq::send_flags::sndmore);
      pub.send(zmq::buffer("{\"id\":\"s" + k + "\",\"n\":" + k + "}"));
      pub.send(zmq::str_buffer("other"), zmq::send_flags::sndmore);
      pub.send(zmq::buffer("{\"id\":\"x" + k + "\",\"n\":" + k + "}"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return test::occurrences(test::read_file(dir / "records.jsonl"), "\n") >= 20;
  }));
  std::vector<int> seen;
  std::istringstream in(test::read_file(dir / "records.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto id = json::parse(line).at("id").get<std::string>();
    REQUIRE(id[0] == 's');  // the other topic is not subscribed
    seen.push_back(std::stoi(id.substr(1)));
  }
  // Once joined, every message, in order.
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] == seen[i - 1] + 1);
}

TEST_CASE("zmq sink: without a peer the run waits and drops nothing, and a peer joining late gets every record") {
  test::temp_dir dir;
  const int port = test::free_port();
  auto g = test::run_command(bin + " gen events --kind orders --no-pace --count 3000 --seed 5 --out-dir '" + dir.path.string()
                             + "' 2>&1");
  REQUIRE(g.exit_code == 0);
  const std::string cfg = dir / "zmq.toml";
  test::write_file(cfg, node_section(dir) +
    "[[source]]\nname = \"events\"\ntype = \"file\"\npath = \"" + dir / "orders.jsonl" + "\"\nschema = \"order\"\n\n"
    "[[schema]]\nname = \"order\"\n[[schema.field]]\nname = \"order_id\"\ntype = \"string\"\nrequired = true\n\n"
    "[[sink]]\nname = \"records\"\ntype = \"jsonl\"\ninput = \"records\"\npath = \"" + dir / "records.jsonl" + "\"\n\n"
    "[[sink]]\nname = \"out\"\ntype = \"zmq\"\ninput = \"records\"\nurl = \"" + tcp(port) + "\"\nbind = true\n");
  const pid_t pid = test::spawn_process({bin, "run", "-c", cfg, "--once"}, dir / "run.log");
  REQUIRE(test::wait_until([&] { return test::contains(test::read_file(dir / "run.log"), "sink out: no peer takes messages"); }));
  int status = 0;
  CHECK(::waitpid(pid, &status, WNOHANG) == 0);  // still running: it waits for a peer
  zmq::context_t ctx;
  zmq::socket_t in(ctx, zmq::socket_type::pull);
  in.set(zmq::sockopt::rcvtimeo, 200);
  in.connect(tcp(port));
  std::multiset<std::string> got;
  // Until the run has ended and nothing more comes.
  bool ended = false;
  for (int idle = 0; idle < 600;) {
    zmq::message_t m;
    if (in.recv(m)) {
      got.insert(m.to_string());
      continue;
    }
    ++idle;
    if (ended) break;
    if (::waitpid(pid, &status, WNOHANG) == pid) ended = true;
  }
  REQUIRE(ended);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::multiset<std::string> written;
  std::istringstream lines(test::read_file(dir / "records.jsonl"));
  for (std::string line; std::getline(lines, line);) written.insert(line);
  CHECK(written.size() > 2500);
  CHECK(got == written);
}
