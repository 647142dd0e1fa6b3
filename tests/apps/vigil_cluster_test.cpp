// Three `vigil run` processes on loopback, as deploy/cluster.toml runs them:
// two agents tailing their own logs, one aggregator. Their results are
// compared with one node reading the union of the same files.

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "messages/cluster_message.hpp"
#include "messages/frame.hpp"
#include "state/state_store.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"
#include "transport/curve_keys.hpp"
#include "transport/frame_server.hpp"
#include "window/partition.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;
const std::string scanner_ip = "198.51.100.77";

/// A TCP port free on loopback now, for a node process to bind later.
/// Not the kernel's pick: that comes from the ephemeral range, where the
/// outgoing connections of tests running beside this one take their source
/// ports, and one of them could hold it by the time the node binds. A
/// random port below that range, checked free, is not handed out that way.
int free_port() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (free) return port;
  }
  FAIL("no free TCP port on loopback between 20000 and 32000");
  return 0;
}

const char* shared_sections = R"(
[[window]]
name = "minute"
type = "tumbling"
size = "1m"
allowed_lateness = "10s"

[[window]]
name = "ip_minute"
type = "tumbling"
size = "1m"
group_by = ["ip"]
allowed_lateness = "10s"

[[rule]]
name = "scanner"
window = "ip_minute"
when = "probes >= 5"
severity = "warning"
)";

std::string sinks(const test::temp_dir& dir, const std::string& prefix) {
  std::string out;
  for (auto [name, input] : std::vector<std::pair<std::string, std::string>>{
         {"alerts", "alerts"}, {"minute", "window:minute"}, {"ip_minute", "window:ip_minute"}, {"quarantine", "quarantine"}})
    out += "\n[[sink]]\nname = \"" + name + "\"\ntype = \"jsonl\"\ninput = \"" + input + "\"\npath = \""
           + (dir / (prefix + name + ".jsonl")) + "\"\n";
  return out;
}

struct cluster_ports {
  int aggregator = free_port(), agent1 = free_port(), agent2 = free_port(), aggregator2 = free_port();
  int aggregator_http = 0;  ///< non-zero: the aggregator serves /metrics there
  int agent1_http = 0;      ///< non-zero: agent-1 serves /metrics there
  std::string endpoint(int port) const { return "tcp://127.0.0.1:" + std::to_string(port); }
};

/// The cluster config; `keys`: each node's public key and secret key file.
std::string write_cluster_config(const test::temp_dir& dir, const cluster_ports& ports,
                           const std::map<std::string, std::pair<std::string, std::string>>& keys = {},
                           bool pre_aggregate = true, int aggregators = 1) {
  std::string cfg = "[node]\ncheckpoint_interval = \"300ms\"\nhttp = \"\"\n\n[cluster]\npre_aggregate = "
                    + std::string(pre_aggregate ? "true" : "false") + "\n";
  auto node = [&](const std::string& name, const std::string& role, int port) {
    cfg += "\n[[cluster.node]]\nname = \"" + name + "\"\nrole = \"" + role + "\"\nendpoint = \"" + ports.endpoint(port)
           + "\"\nstate_dir = \"" + (dir / ("state-" + name)) + "\"\n";
    if (name == "aggregator" && ports.aggregator_http != 0)
      cfg += "http = \"127.0.0.1:" + std::to_string(ports.aggregator_http) + "\"\n";
    if (name == "agent-1" && ports.agent1_http != 0)
      cfg += "http = \"127.0.0.1:" + std::to_string(ports.agent1_http) + "\"\n";
    if (auto k = keys.find(name); k != keys.end())
      cfg += "public_key = \"" + k->second.first + "\"\nsecret_key_file = \"" + k->second.second + "\"\n";
    if (role == "agent")
      cfg += "\n[[cluster.node.source]]\nname = \"access\"\ntype = \"file\"\npath = \"" + (dir / name) +
             "/access.log*\"\nformat = \"combined\"\n";
  };
  node("agent-1", "agent", ports.agent1);
  node("agent-2", "agent", ports.agent2);
  node("aggregator", "aggregator", ports.aggregator);
  if (aggregators == 2) {
    // Its own files: "fleet2-*.jsonl", as [[cluster.node.sink]] tables.
    node("aggregator-2", "aggregator", ports.aggregator2);
    std::string own = sinks(dir, "fleet2-");
    for (size_t at = own.find("[[sink]]"); at != std::string::npos; at = own.find("[[sink]]", at + 1))
      own.replace(at, 8, "[[cluster.node.sink]]");
    cfg += own;
  }
  cfg += shared_sections + sinks(dir, "fleet-");
  test::write_file(dir / "cluster.toml", cfg);
  return dir / "cluster.toml";
}

/// One node over the same files: a source per agent's log.
std::string single_config(const test::temp_dir& dir, const std::vector<std::string>& agents, const std::string& prefix) {
  std::string cfg = "[node]\nname = \"single\"\nstate_dir = \"" + (dir / (prefix + "state")) + "\"\nhttp = \"\"\n";
  for (const auto& a : agents)
    cfg += "\n[[source]]\nname = \"" + a + "\"\ntype = \"file\"\npath = \"" + (dir / a) + "/access.log*\"\nformat = \"combined\"\n";
  cfg += shared_sections + sinks(dir, prefix);
  test::write_file(dir / (prefix + "single.toml"), cfg);
  return dir / (prefix + "single.toml");
}

std::string gen(const std::string& args) {
  auto r = test::run_command(bin + " gen access --no-pace " + args + " 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  return r.out;
}

/// An agent's log: background traffic over 3 minutes from 10:00, and at
/// 10:01:00-10:01:02 three probes of the scanner, in time order.
std::string agent_log(int seed, const std::vector<std::string>& probes) {
  std::string log = gen("--rate 100 --duration 60s --seed " + std::to_string(seed) + " --start 2026-01-01T10:00:00Z");
  int second = 0;
  for (const auto& path : probes)
    log += scanner_ip + " - - [01/Jan/2026:10:01:0" + std::to_string(second++) + " +0000] \"GET " + path
           + " HTTP/1.1\" 404 162 \"-\" \"Mozilla/5.0\"\n";
  log += gen("--rate 100 --duration 120s --seed " + std::to_string(seed + 100) + " --start 2026-01-01T10:01:03Z");
  return log;
}

void write_agent_logs(const test::temp_dir& dir) {
  std::filesystem::create_directories(dir / "agent-1");
  std::filesystem::create_directories(dir / "agent-2");
  test::write_file(dir / "agent-1/access.log", agent_log(3, {"/.env", "/.git/config", "/phpmyadmin/"}));
  test::write_file(dir / "agent-2/access.log", agent_log(4, {"/wp-admin/", "/config.php", "/backup.sql"}));
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> sorted_lines(const std::string& path) {
  auto out = lines_of(path);
  std::sort(out.begin(), out.end());
  return out;
}

/// Firing alerts as (rule, key, window start): what must not differ.
std::set<std::string> firing(const std::string& path) {
  std::set<std::string> out;
  for (const auto& line : lines_of(path)) {
    auto a = json::parse(line);
    if (a["status"] == "firing")
      out.insert(a["rule"].get<std::string>() + " " + a["key"].dump() + " " + a["window"]["start"].get<std::string>());
  }
  return out;
}

/// Each agent's log, written while the cluster runs: in `slices` slices of
/// whole lines, 100 ms apart, on a thread of its own, so that kills land
/// while there is still input to read. `seed`: agent-1's; agent-2's is
/// the next.
class growing_logs {
public:
  growing_logs(const test::temp_dir& dir, int seed, size_t slices) {
    full_["agent-1"] = agent_log(seed, {"/.env", "/.git/config", "/phpmyadmin/"})
                       + gen("--rate 300 --duration 10m --seed " + std::to_string(seed * 10 + 1)
                             + " --start 2026-01-01T10:03:03Z");
    full_["agent-2"] = agent_log(seed + 1, {"/wp-admin/", "/config.php", "/backup.sql"})
                       + gen("--rate 300 --duration 10m --seed " + std::to_string((seed + 1) * 10 + 1)
                             + " --start 2026-01-01T10:03:03Z");
    for (const auto& [agent, text] : full_) {
      std::filesystem::create_directories(dir / agent);
      test::write_file(dir / (agent + "/access.log"), "");
    }
    writer_ = std::thread([this, &dir, slices] {
      for (size_t i = 0; i < slices; ++i) {
        for (const auto& [agent, text] : full_) {
          size_t from = i == 0 ? 0 : text.find('\n', text.size() * i / slices) + 1;
          size_t to = i + 1 == slices ? text.size() : text.find('\n', text.size() * (i + 1) / slices) + 1;
          std::ofstream(dir / (agent + "/access.log"), std::ios::app) << text.substr(from, to - from);
        }
        if (!hurry_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  ~growing_logs() { finish(); }
  /// Waits until every slice is written, at the pace it set.
  void join() {
    if (writer_.joinable()) writer_.join();
  }
  /// Writes what is left at once.
  void finish() {
    hurry_ = true;
    join();
  }

private:
  std::map<std::string, std::string> full_;
  std::atomic<bool> hurry_{false};
  std::thread writer_;
};

struct node_process {
  std::string name;
  pid_t pid = -1;
};

/// Waits for every process to exit; their exit codes. Kills them all and
/// fails after a ceiling (a hang, never a timing check).
std::map<std::string, int> wait_all(std::vector<node_process>& nodes, const test::temp_dir& dir) {
  std::map<std::string, int> codes;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (codes.size() < nodes.size()) {
    for (auto& n : nodes) {
      if (codes.count(n.name)) continue;
      int status = 0;
      if (::waitpid(n.pid, &status, WNOHANG) == n.pid) codes[n.name] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      for (auto& n : nodes)
        if (!codes.count(n.name)) {
          ::kill(n.pid, SIGKILL);
          ::waitpid(n.pid, nullptr, 0);
          UNSCOPED_INFO(n.name << " log:\n" << test::read_file(dir / (n.name + ".log")));
        }
      FAIL("cluster nodes did not finish within 180 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return codes;
}

node_process start_node(const test::temp_dir& dir, const std::string& config, const std::string& name, bool once) {
  std::vector<std::string> args{bin, "run", "-c", config, "--node", name, "--log-level", "debug"};
  if (once) args.push_back("--once");
  node_process p{name, test::spawn_process(args, dir / (name + ".log"))};
  REQUIRE(p.pid > 0);
  return p;
}

/// SIGKILL, then the same node again (not `--once`), appending to its log.
void kill_and_restart(const test::temp_dir& dir, const std::string& config, node_process& node) {
  ::kill(node.pid, SIGKILL);
  ::waitpid(node.pid, nullptr, 0);
  node = start_node(dir, config, node.name, false);
}

size_t occurrences(const std::string& file, const std::string& text) {
  const std::string log = test::read_file(file);
  size_t n = 0;
  for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
  return n;
}

/// Waits until `file` holds `text` `times` times (a ceiling, not a timing check).
void wait_for_log(const std::string& file, const std::string& text, size_t times = 1) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    if (occurrences(file, text) >= times) return;
    const std::string log = test::read_file(file);
    if (std::chrono::steady_clock::now() > deadline) {
      INFO(file << ":\n" << log);
      FAIL("\"" << text << "\" did not appear " << times << " times in " << file);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

/// The fleet's results (every aggregator's files, `fleet_prefixes`) equal
/// the single node's.
void check_same_results(const test::temp_dir& dir, const std::string& single_prefix,
                        const std::vector<std::string>& fleet_prefixes = {"fleet-"}) {
  for (const std::string window : {"minute", "ip_minute"}) {
    std::vector<std::string> fleet;
    for (const auto& prefix : fleet_prefixes) {
      auto part = sorted_lines(dir / (prefix + window + ".jsonl"));
      fleet.insert(fleet.end(), part.begin(), part.end());
    }
    std::sort(fleet.begin(), fleet.end());
    auto single = sorted_lines(dir / (single_prefix + window + ".jsonl"));
    INFO(window);
    REQUIRE(!single.empty());
    CHECK(fleet.size() == single.size());
    CHECK(fleet == single);
  }
  std::set<std::string> alerts;
  for (const auto& prefix : fleet_prefixes) {
    auto part = firing(dir / (prefix + "alerts.jsonl"));
    alerts.insert(part.begin(), part.end());
  }
  CHECK(alerts == firing(dir / (single_prefix + "alerts.jsonl")));
}

/// After kills mid-run: a graceful stop of every node, then a run of all
/// three to the end of the input that closes every window. The kills must
/// have landed: a session resumed from a checkpoint, and an agent's
/// restart rolled the fleet back.
void stop_then_finish(const test::temp_dir& dir, const std::string& config, std::vector<node_process>& nodes) {
  for (auto& n : nodes) ::kill(n.pid, SIGTERM);
  for (auto& [name, code] : wait_all(nodes, dir)) CHECK(code == 0);
  nodes = {start_node(dir, config, "aggregator", true), start_node(dir, config, "agent-1", true),
           start_node(dir, config, "agent-2", true)};
  auto codes = wait_all(nodes, dir);
  const std::string aggregator_log = test::read_file(dir / "aggregator.log");
  INFO(aggregator_log);
  for (auto& [name, code] : codes) CHECK(code == 0);
  CHECK(aggregator_log.find("rolling back to the last complete checkpoint") != std::string::npos);
}

/// GET `path` on HTTP port `port` of 127.0.0.1: status and body.
std::pair<int, std::string> http_get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get(path.c_str());
  if (!res) return {0, ""};
  return {res->status, res->body};
}

/// GET `path` on the aggregator's HTTP port: status and body.
std::pair<int, std::string> http_get(const cluster_ports& ports, const std::string& path) {
  return http_get(ports.aggregator_http, path);
}

/// Whether promtool accepts a scrape; its complaints in `out`.
bool promtool_accepts(const test::temp_dir& dir, const std::string& scrape, std::string& out) {
  test::write_file(dir / "scrape.txt", scrape);
  auto lint = test::run_command("promtool check metrics < '" + dir / "scrape.txt" + "' 2>&1");
  out = lint.out;
  return lint.exit_code == 0;
}

/// The value of series `series` (name and labels, as rendered) in a scrape.
double metric(const std::string& scrape, const std::string& series) {
  const auto at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(scrape.substr(at + series.size() + 2));
}

bool scanner_caught(const std::string& alerts) {
  for (const auto& a : firing(alerts))
    if (a.find(scanner_ip) != std::string::npos) return true;
  return false;
}

} // namespace

TEST_CASE("a cluster of three processes: the fleet's windows equal one node's over the union, and a scanner "
          "split across agents is caught, and hostile frames are dropped") {
  // Agents send partial groups, or every event: the same results.
  const bool pre_aggregate = GENERATE(true, false);
  INFO("pre_aggregate = " << pre_aggregate);
  test::temp_dir dir;
  cluster_ports ports;
  write_agent_logs(dir);
  const std::string config = write_cluster_config(dir, ports, {}, pre_aggregate);
  REQUIRE(test::run_command(bin + " check-config -c '" + config + "' 2>&1").exit_code == 0);

  std::vector<node_process> nodes{start_node(dir, config, "aggregator", true)};
  {
    // What the aggregator must drop and survive, before the agents come:
    // garbage, another protocol version, a frame over the 64 MiB limit,
    // and a hello from a name that is not in the config.
    frame_client mallory(ports.endpoint(ports.aggregator), std::nullopt, "");
    // Sends only queue; what the aggregator did with each is in its log.
    mallory.send("not a frame at all");
    std::string other_version = encode_frame({frame_type::hello, "agent-1", 1}, encode(hello_message{1, {"access"}}));
    other_version[4] = 9;
    mallory.send(other_version);
    mallory.send(encode_frame({frame_type::events, "agent-1", 2}, std::string((64u << 20) + 16, 'x')),
                 std::chrono::milliseconds(10000));
    mallory.send(encode_frame({frame_type::hello, "mallory", 1}, encode(hello_message{7, {"access"}})));
    for (const char* drop : {"dropped a frame, malformed", "dropped a frame, another protocol version",
                             "dropped a frame, too large", "which is not a peer in the cluster config"})
      wait_for_log(dir / "aggregator.log", drop);
  }
  nodes.push_back(start_node(dir, config, "agent-1", true));
  nodes.push_back(start_node(dir, config, "agent-2", true));
  // Without keys anyone can say hello as agent-1, with a new incarnation
  // every 0.3 s: each would roll the fleet back; at most one in 10 s does.
  std::atomic<bool> forging{true};
  std::thread forger([&] {
    frame_client mallory(ports.endpoint(ports.aggregator), std::nullopt, "");
    for (uint64_t i = 0; forging; ++i) {
      mallory.send(encode_frame({frame_type::hello, "agent-1", 100 + i}, encode(hello_message{1000 + i, {"access"}})));
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  auto codes = wait_all(nodes, dir);
  forging = false;
  forger.join();
  INFO(test::read_file(dir / "aggregator.log"));
  CHECK(occurrences(dir / "aggregator.log", "rolling back to the last complete checkpoint") <= 2);
  CHECK(codes["aggregator"] == 0);
  CHECK(codes["agent-1"] == 0);
  CHECK(codes["agent-2"] == 0);

  REQUIRE(test::run_command(bin + " run --once -c '" + single_config(dir, {"agent-1", "agent-2"}, "single-") + "' 2>&1")
            .exit_code == 0);
  check_same_results(dir, "single-");
  CHECK(scanner_caught(dir / "fleet-alerts.jsonl"));
  // Neither web server alone sees enough of it.
  for (const std::string agent : {"agent-1", "agent-2"}) {
    REQUIRE(test::run_command(bin + " run --once -c '" + single_config(dir, {agent}, agent + "-") + "' 2>&1")
              .exit_code == 0);
    CHECK_FALSE(scanner_caught(dir / (agent + "-alerts.jsonl")));
  }
}

TEST_CASE("a cluster survives SIGKILL of the aggregator and of an agent, and a frozen agent, mid-run: the results "
          "are still exactly one node's over the union") {
  test::temp_dir dir;
  cluster_ports ports;
  ports.aggregator_http = free_port();
  ports.agent1_http = free_port();
  // The logs grow while the cluster runs: written in slices, so the kills
  // land while there is still input to read.
  growing_logs logs(dir, 5, 60);
  const std::string config = write_cluster_config(dir, ports);

  std::vector<node_process> nodes{start_node(dir, config, "aggregator", false), start_node(dir, config, "agent-1", false),
                                  start_node(dir, config, "agent-2", false)};
  // The aggregator dies after its second checkpoint and comes back.
  wait_for_log(dir / "aggregator.log", ": written", 2);
  kill_and_restart(dir, config, nodes[0]);
  wait_for_log(dir / "agent-1.log", "rewinding");
  wait_for_log(dir / "agent-2.log", "rewinding");
  // Then an agent, once the new session has checkpointed.
  wait_for_log(dir / "aggregator.log", ": written", 4);
  kill_and_restart(dir, config, nodes[1]);
  wait_for_log(dir / "aggregator.log", "agent agent-1 restarted");
  // Once both agents joined the new session (it took a checkpoint):
  wait_for_log(dir / "aggregator.log", ": written", occurrences(dir / "aggregator.log", ": written") + 1);
  // And an agent that stops answering (frozen, as on a network partition)
  // and comes back: what was in flight may be lost, so the fleet rolls back.
  ::kill(nodes[2].pid, SIGSTOP);
  wait_for_log(dir / "aggregator.log", "peer agent-2 is down");
  {
    // Down in the metrics too, while the other agent is up.
    auto [status, scrape] = http_get(ports, "/metrics");
    INFO(scrape);
    CHECK(status == 200);
    CHECK(metric(scrape, "vigil_peer_up{peer=\"agent-2\"}") == 0);
    CHECK(metric(scrape, "vigil_peer_up{peer=\"agent-1\"}") == 1);
    CHECK(metric(scrape, "vigil_cluster_rollbacks_total") >= 1);  // agent-1's restart
    CHECK(scrape.find("# TYPE vigil_frames_dropped_total counter") != std::string::npos);
    CHECK(http_get(ports, "/healthz").first == 200);
    CHECK(http_get(ports, "/readyz").first == 200);
    // The fleet view of the aggregator's dashboard says the same, with
    // what each agent sent.
    auto [code, body] = http_get(ports, "/api/v1/status");
    INFO(body);
    REQUIRE(code == 200);
    auto view = nlohmann::json::parse(body);
    CHECK(view["role"] == "aggregator");
    std::map<std::string, nlohmann::json> fleet;
    for (const auto& m : view["fleet"]) fleet[m["name"].get<std::string>()] = m;
    REQUIRE(fleet.count("agent-1") == 1);
    REQUIRE(fleet.count("agent-2") == 1);
    CHECK(fleet["agent-1"]["up"] == true);
    CHECK(fleet["agent-2"]["up"] == false);
    CHECK(fleet["agent-1"]["batches"].get<uint64_t>() > 0);
    CHECK(fleet["agent-1"]["bytes"].get<uint64_t>() > 0);
    // Pre-aggregated, the batches stand for events all the same.
    CHECK(fleet["agent-1"]["events"].get<uint64_t>() > fleet["agent-1"]["batches"].get<uint64_t>());
    // Its read lag, from its heartbeats: the logs grow, so some bytes may be unread.
    REQUIRE(fleet["agent-1"]["lag_bytes"].is_number());
    REQUIRE(fleet["agent-1"]["event_lag_s"].is_number());
    CHECK(fleet["agent-1"]["event_lag_s"].get<double>() >= 0);
    CHECK(view["stages"].size() > 0);
    CHECK(test::contains(http_get(ports, "/").second, "<h2>Fleet</h2>"));
    // The aggregator's own pipeline series, and what each agent sends.
    CHECK(metric(scrape, "vigil_agent_events_total{agent=\"agent-1\"}") > 0);
    CHECK(metric(scrape, "vigil_agent_lag_bytes{agent=\"agent-1\"}") >= 0);
    CHECK(metric(scrape, "vigil_agent_event_lag_seconds{agent=\"agent-1\"}") >= 0);
    CHECK(metric(scrape, "vigil_stage_items_total{stage=\"windows\",direction=\"in\"}") > 0);
    CHECK(metric(scrape, "vigil_window_open_groups{window=\"minute\"}") >= 0);
    CHECK(metric(scrape, "vigil_checkpoints_total{result=\"written\"}") > 0);
    CHECK(scrape.find("vigil_source_events_total") == std::string::npos);  // its agents parse
    std::string lint;
    const bool aggregator_lints = promtool_accepts(dir, scrape, lint);
    INFO(lint);
    CHECK(aggregator_lints);
    // agent-1's: its source and its parse stage.
    std::string agent_scrape;
    CHECK(test::wait_until([&] {
      agent_scrape = http_get(ports.agent1_http, "/metrics").second;
      return metric(agent_scrape, "vigil_source_events_total{source=\"access\"}") > 0;
    }));
    INFO(agent_scrape);
    CHECK(metric(agent_scrape, "vigil_stage_items_total{stage=\"parse:access\",direction=\"in\"}") > 0);
    CHECK(metric(agent_scrape, "vigil_source_lag_bytes{source=\"access\"}") >= 0);
    CHECK(agent_scrape.find("vigil_window_open_groups") == std::string::npos);  // its aggregator windows
    CHECK(agent_scrape.find("vigil_checkpoints_total") == std::string::npos);   // ... and checkpoints
    std::string agent_lint;
    const bool agent_lints = promtool_accepts(dir, agent_scrape, agent_lint);
    INFO(agent_lint);
    CHECK(agent_lints);
  }
  ::kill(nodes[2].pid, SIGCONT);
  wait_for_log(dir / "aggregator.log", "agent agent-2 was unreachable");
  {
    auto [status, scrape] = http_get(ports, "/metrics");
    INFO(scrape);
    CHECK(metric(scrape, "vigil_peer_up{peer=\"agent-2\"}") == 1);
    CHECK(metric(scrape, "vigil_cluster_rollbacks_total") >= 2);
  }
  logs.join();
  // Everything written, then a graceful stop, then a run to the end of the
  // input that closes every window.
  wait_for_log(dir / "aggregator.log", ": written", 8);
  stop_then_finish(dir, config, nodes);

  REQUIRE(test::run_command(bin + " run --once -c '" + single_config(dir, {"agent-1", "agent-2"}, "single-") + "' 2>&1")
            .exit_code == 0);
  check_same_results(dir, "single-");
  CHECK(scanner_caught(dir / "fleet-alerts.jsonl"));
}

TEST_CASE("a Curve cluster: members get in, a stranger's key is refused and logged") {
  if (!curve_available()) {
    WARN("libzmq without Curve: skipped");
    return;
  }
  test::temp_dir dir;
  cluster_ports ports;
  write_agent_logs(dir);
  std::map<std::string, std::pair<std::string, std::string>> keys;
  std::map<std::string, curve_key_pair> pairs;
  for (const std::string node : {"agent-1", "agent-2", "aggregator"}) {
    auto pair = write_curve_key_files(dir.path.string(), node);
    keys[node] = {pair.public_key, dir / (node + ".key")};
    pairs[node] = pair;
  }
  const std::string config = write_cluster_config(dir, ports, keys);
  REQUIRE(test::run_command(bin + " check-config -c '" + config + "' 2>&1").exit_code == 0);
  std::vector<node_process> nodes{start_node(dir, config, "aggregator", true), start_node(dir, config, "agent-1", true),
                                  start_node(dir, config, "agent-2", true)};
  {
    auto stranger = make_curve_keys();
    frame_client mallory(ports.endpoint(ports.aggregator), curve_identity{stranger.public_key, stranger.secret_key},
                         keys["aggregator"].first);
    mallory.send(encode_frame({frame_type::hello, "agent-1", 1}, encode(hello_message{7, {"access"}})));
    wait_for_log(dir / "aggregator.log", "refused a peer whose Curve key is not in the config");
    // agent-2's valid key speaking as agent-1: its key is not agent-1's.
    frame_client insider(ports.endpoint(ports.aggregator),
                         curve_identity{pairs["agent-2"].public_key, pairs["agent-2"].secret_key}, keys["aggregator"].first);
    insider.send(encode_frame({frame_type::hello, "agent-1", 1}, encode(hello_message{8, {"access"}})));
    wait_for_log(dir / "aggregator.log", "named for another node than its Curve key's: says agent-1, its key is agent-2");
  }
  auto codes = wait_all(nodes, dir);
  INFO(test::read_file(dir / "aggregator.log"));
  for (auto& [name, code] : codes) CHECK(code == 0);
  REQUIRE(test::run_command(bin + " run --once -c '" + single_config(dir, {"agent-1", "agent-2"}, "single-") + "' 2>&1")
            .exit_code == 0);
  check_same_results(dir, "single-");
}

TEST_CASE("one node with two sources stops with a checkpoint and resumes it: the same results as a run without a stop") {
  // Each window keeps each source's event time: the checkpoint must come
  // back into a window stage with as many inputs.
  test::temp_dir dir;
  write_agent_logs(dir);
  const std::string once = single_config(dir, {"agent-1", "agent-2"}, "whole-");
  REQUIRE(test::run_command(bin + " run --once -c '" + once + "' 2>&1").exit_code == 0);

  const std::string config = single_config(dir, {"agent-1", "agent-2"}, "stopped-");
  pid_t pid = test::spawn_process({bin, "run", "-c", config, "--log-level", "debug"}, dir / "stopped.log");
  REQUIRE(pid > 0);
  wait_for_log(dir / "stopped.log", ": written");
  ::kill(pid, SIGTERM);
  REQUIRE(test::wait_process(pid) == 0);
  auto resumed = test::run_command(bin + " run --once -c '" + config + "' 2>&1");
  INFO(resumed.out);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.out.find("resuming from checkpoint") != std::string::npos);
  for (const std::string window : {"minute", "ip_minute"})
    CHECK(sorted_lines(dir / ("stopped-" + window + ".jsonl")) == sorted_lines(dir / ("whole-" + window + ".jsonl")));
}

namespace {

/// Every ip_minute group in `file` belongs to partition `index` of 2, and
/// no whole-stream window result is there unless it is the first.
void check_own_keys(const std::string& file_prefix, size_t index) {
  window_config ip_minute;
  ip_minute.group_by = {"ip"};
  size_t groups = 0;
  std::ifstream in(file_prefix + "ip_minute.jsonl");
  for (std::string line; std::getline(in, line); ++groups) {
    const std::string ip = json::parse(line)["group"]["ip"].get<std::string>();
    INFO(file_prefix << " holds " << ip);
    CHECK(partition_of(ip_minute, ip, 2) == index);
  }
  CHECK(groups > 0);
  if (index > 0) CHECK(sorted_lines(file_prefix + "minute.jsonl").empty());
}

} // namespace

TEST_CASE("two aggregators split the keyed windows: together they equal one node, each keeps only its own keys") {
  const bool pre_aggregate = GENERATE(true, false);
  INFO("pre_aggregate = " << pre_aggregate);
  test::temp_dir dir;
  cluster_ports ports;
  write_agent_logs(dir);
  const std::string config = write_cluster_config(dir, ports, {}, pre_aggregate, 2);
  auto check = test::run_command(bin + " check-config -c '" + config + "' 2>&1");
  INFO(check.out);
  REQUIRE(check.exit_code == 0);
  // The second aggregator comes last: the agents wait for it, and the
  // leader's checkpoints start only once everyone joined.
  std::vector<node_process> nodes{start_node(dir, config, "aggregator", true), start_node(dir, config, "agent-1", true),
                                  start_node(dir, config, "agent-2", true)};
  wait_for_log(dir / "agent-1.log", "waits for aggregator-2 to be ready");
  nodes.push_back(start_node(dir, config, "aggregator-2", true));
  auto codes = wait_all(nodes, dir);
  INFO(test::read_file(dir / "aggregator.log"));
  INFO(test::read_file(dir / "aggregator-2.log"));
  for (auto& [name, code] : codes) CHECK(code == 0);
  CHECK(occurrences(dir / "aggregator.log", "checkpoints start") >= 1);
  REQUIRE(test::run_command(bin + " run --once -c '" + single_config(dir, {"agent-1", "agent-2"}, "single-") + "' 2>&1")
            .exit_code == 0);
  check_same_results(dir, "single-", {"fleet-", "fleet2-"});
  check_own_keys(dir / "fleet-", 0);
  check_own_keys(dir / "fleet2-", 1);
  CHECK((scanner_caught(dir / "fleet-alerts.jsonl") || scanner_caught(dir / "fleet2-alerts.jsonl")));
}

TEST_CASE("two aggregators survive SIGKILL of either mid-run: the fleet's results are still one node's") {
  test::temp_dir dir;
  cluster_ports ports;
  // Slow enough to still grow when the fleet is stopped below.
  growing_logs logs(dir, 7, 600);
  const std::string config = write_cluster_config(dir, ports, {}, true, 2);

  std::vector<node_process> nodes{start_node(dir, config, "aggregator", false),
                                  start_node(dir, config, "aggregator-2", false),
                                  start_node(dir, config, "agent-1", false), start_node(dir, config, "agent-2", false)};
  // The follower dies once it has stored two checkpoints, and comes back:
  // the leader rolls the fleet back, and the follower loads exactly the
  // checkpoint the leader completed.
  wait_for_log(dir / "aggregator-2.log", ": written", 2);
  kill_and_restart(dir, config, nodes[1]);
  wait_for_log(dir / "aggregator.log", "aggregator aggregator-2 restarted");
  // Then the leader, once the new session has checkpointed.
  wait_for_log(dir / "aggregator.log", ": written", occurrences(dir / "aggregator.log", ": written") + 2);
  kill_and_restart(dir, config, nodes[0]);
  wait_for_log(dir / "aggregator-2.log", "rolling back");
  // Stopped while the logs still grow: its checkpoints differ.
  wait_for_log(dir / "aggregator.log", ": written", occurrences(dir / "aggregator.log", ": written") + 3);
  for (auto& n : nodes) ::kill(n.pid, SIGTERM);
  for (auto& [name, code] : wait_all(nodes, dir)) CHECK(code == 0);
  logs.finish();
  // A follower may hold a checkpoint the leader never completed (it stored
  // its part, the leader died before the rest came in). Made here: an
  // older checkpoint of the follower, with other windows than the leader's
  // newest, stored again as the follower's newest. Resuming from it would
  // lose what came between.
  uint64_t fleet_checkpoint = 0;
  {
    std::string error;
    auto leader = state_store::open(dir / "state-aggregator", error);
    REQUIRE(leader);
    fleet_checkpoint = leader->checkpoints().back().id;
    auto follower = state_store::open(dir / "state-aggregator-2", error);
    REQUIRE(follower);
    auto windows_of = [&](uint64_t id, std::vector<state_part>& parts) {
      REQUIRE(follower->read_checkpoint(id, parts, error));
      for (const auto& p : parts)
        if (p.participant == "windows") return p.bytes;
      FAIL("checkpoint " << id << " has no windows part");
      return std::string();
    };
    // The follower may be one ahead already (stopped a moment after the
    // leader); it has the leader's newest either way.
    std::vector<state_part> fleet_parts, parts;
    const std::string fleet_windows = windows_of(fleet_checkpoint, fleet_parts);
    const auto kept = follower->checkpoints();
    bool found = false;
    for (const auto& c : kept) {
      if (c.id == fleet_checkpoint) continue;
      if (windows_of(c.id, parts) != fleet_windows) {
        found = true;
        break;
      }
    }
    REQUIRE(found);
    const uint64_t stale_id = kept.back().id + 1;
    for (auto& p : parts) p.checkpoint = stale_id;
    REQUIRE(follower->write_checkpoint({stale_id, 0, 0, static_cast<uint32_t>(parts.size())}, parts, error));
  }
  nodes = {start_node(dir, config, "aggregator", true), start_node(dir, config, "aggregator-2", true),
           start_node(dir, config, "agent-1", true), start_node(dir, config, "agent-2", true)};
  auto codes = wait_all(nodes, dir);
  INFO(test::read_file(dir / "aggregator.log"));
  INFO(test::read_file(dir / "aggregator-2.log"));
  for (auto& [name, code] : codes) CHECK(code == 0);
  CHECK(occurrences(dir / "aggregator-2.log", "from checkpoint " + std::to_string(fleet_checkpoint) + ":") >= 1);
  REQUIRE(test::run_command(bin + " run --once -c '" + single_config(dir, {"agent-1", "agent-2"}, "single-") + "' 2>&1")
            .exit_code == 0);
  check_same_results(dir, "single-", {"fleet-", "fleet2-"});
  CHECK((scanner_caught(dir / "fleet-alerts.jsonl") || scanner_caught(dir / "fleet2-alerts.jsonl")));
}

namespace {

const char* etl_sections = R"toml(
[[schema]]
name = "order"
time_field = "ts"
dedup_key = "order_id"
dedup_horizon = "10m"
[[schema.field]]
name = "order_id"
type = "string"
required = true
[[schema.field]]
name = "user_id"
type = "string"
[[schema.field]]
name = "event_type"
type = "enum"
values = ["view", "cart", "purchase"]
required = true
[[schema.field]]
name = "product_id"
type = "string"
[[schema.field]]
name = "quantity"
type = "int"
min = 1
coerce = true
[[schema.field]]
name = "price"
type = "float"
min = 0
[[schema.field]]
name = "payment_status"
type = "string"
[[schema.field]]
name = "ts"
type = "timestamp"
required = true

[[transform]]
name = "total"
expr = "price * quantity"

[[window]]
name = "category_minute"
type = "tumbling"
size = "1m"
group_by = ["category"]
allowed_lateness = "10m"
metrics = { orders = "count(event_type == \"purchase\")", revenue = "sum(total)", users = "distinct(user_id)", failed = "count(payment_status == \"failed\")" }

[[rule]]
name = "payment_failures"
window = "category_minute"
when = "failed >= 3"
)toml";

std::string etl_shared(const test::temp_dir& dir, const std::string& prefix) {
  std::string out = etl_sections;
  out += "\n[[lookup]]\nname = \"products\"\npath = \"" + dir / "agent-1/products.csv" + "\"\nkey = [\"product_id\"]\n"
         "fields = [\"category\"]\n";
  for (auto [name, type, input] : std::vector<std::tuple<std::string, std::string, std::string>>{
         {"alerts", "jsonl", "alerts"}, {"minute", "jsonl", "window:category_minute"}, {"records", "jsonl", "records"},
         {"quarantine", "jsonl", "quarantine"}, {"records_csv", "csv", "records"}})
    out += "\n[[sink]]\nname = \"" + name + "\"\ntype = \"" + type + "\"\ninput = \"" + input + "\"\npath = \"" +
           dir / (prefix + name + (type == "csv" ? ".csv" : ".jsonl")) + "\"\n";
  return out;
}

/// Quarantined events as (reason, text): the source names differ between
/// a fleet (the agent's source) and one node (one source per agent).
std::multiset<std::string> quarantined_events(const std::string& path) {
  std::multiset<std::string> out;
  for (const auto& line : lines_of(path)) {
    auto q = json::parse(line);
    out.insert(q.value("reason", "") + " " + q.value("text", ""));
  }
  return out;
}

/// The orders of each agent, as `vigil gen events` writes them.
std::map<std::string, std::string> agent_orders(const test::temp_dir& dir) {
  std::map<std::string, std::string> out;
  for (const auto& [agent, seed] : std::vector<std::pair<std::string, int>>{{"agent-1", 11}, {"agent-2", 12}}) {
    std::filesystem::create_directories(dir / agent);
    auto g = test::run_command(bin + " gen events --kind orders --no-pace --rate 40 --duration 6m --seed " +
                               std::to_string(seed) + " --start 2024-01-01T00:00:00Z --inject payment_failures,bad,duplicates"
                               " --bad-rate 0.03 --out-dir '" + dir / agent + "' 2>&1");
    REQUIRE(g.exit_code == 0);
    out[agent] = test::read_file(dir / agent + "/orders.jsonl");
  }
  return out;
}

std::string write_etl_cluster_config(const test::temp_dir& dir, const cluster_ports& ports) {
  std::string cfg = "[node]\ncheckpoint_interval = \"300ms\"\nhttp = \"\"\n\n[cluster]\n";
  for (const auto& [name, role, port] : std::vector<std::tuple<std::string, std::string, int>>{
         {"agent-1", "agent", ports.agent1}, {"agent-2", "agent", ports.agent2}, {"aggregator", "aggregator", ports.aggregator}}) {
    cfg += "\n[[cluster.node]]\nname = \"" + name + "\"\nrole = \"" + role + "\"\nendpoint = \"" + ports.endpoint(port) +
           "\"\nstate_dir = \"" + dir / ("state-" + name) + "\"\n";
    if (role == "agent")
      cfg += "\n[[cluster.node.source]]\nname = \"orders\"\ntype = \"file\"\npath = \"" + dir / name + "/orders.jsonl\"\n"
             "schema = \"order\"\n";
  }
  test::write_file(dir / "cluster.toml", cfg + etl_shared(dir, "fleet-"));
  return dir / "cluster.toml";
}

/// One node over both agents' orders, then the fleet's results against its.
void check_same_etl_results(const test::temp_dir& dir) {
  std::string single = "[node]\nname = \"single\"\nstate_dir = \"" + dir / "single-state" + "\"\nhttp = \"\"\n";
  for (const std::string agent : {"agent-1", "agent-2"})
    single += "\n[[source]]\nname = \"" + agent + "\"\ntype = \"file\"\npath = \"" + dir / agent + "/orders.jsonl\"\n"
              "schema = \"order\"\n";
  test::write_file(dir / "single.toml", single + etl_shared(dir, "single-"));
  auto r = test::run_command(bin + " run --once -c '" + dir / "single.toml" + "' 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  for (const std::string sink : {"minute.jsonl", "records.jsonl", "records_csv.csv"}) {
    INFO(sink);
    const auto fleet = sorted_lines(dir / ("fleet-" + sink)), one = sorted_lines(dir / ("single-" + sink));
    CHECK(one.size() > 10);
    CHECK(fleet == one);
  }
  CHECK(test::read_file(dir / "fleet-records_csv.csv").rfind("order_id,", 0) == 0);  // the header, once, first
  const auto bad = quarantined_events(dir / "fleet-quarantine.jsonl");
  CHECK(bad.size() > 10);
  CHECK(bad == quarantined_events(dir / "single-quarantine.jsonl"));
  const auto alerts = firing(dir / "fleet-alerts.jsonl");
  CHECK(!alerts.empty());
  CHECK(alerts == firing(dir / "single-alerts.jsonl"));
}

} // namespace

TEST_CASE("the ETL job on a cluster: agents make the records, the aggregator's windows, records and alerts equal one node's") {
  test::temp_dir dir;
  cluster_ports ports;
  agent_orders(dir);
  const std::string config = write_etl_cluster_config(dir, ports);
  auto check = test::run_command(bin + " check-config -c '" + config + "' 2>&1");
  INFO(check.out);
  REQUIRE(check.exit_code == 0);
  std::vector<node_process> nodes{start_node(dir, config, "aggregator", true), start_node(dir, config, "agent-1", true),
                                  start_node(dir, config, "agent-2", true)};
  auto codes = wait_all(nodes, dir);
  INFO(test::read_file(dir / "aggregator.log"));
  for (auto& [name, code] : codes) CHECK(code == 0);
  check_same_etl_results(dir);
}

TEST_CASE("the ETL job on a cluster survives SIGKILL of the aggregator and of an agent mid-run: records and windows "
          "are still exactly one node's") {
  test::temp_dir dir;
  cluster_ports ports;
  const auto orders = agent_orders(dir);
  // The orders grow while the cluster runs, in slices of whole lines.
  for (const auto& [agent, text] : orders) test::write_file(dir / agent + "/orders.jsonl", "");
  std::thread writer([&] {
    const size_t slices = 40;
    for (size_t i = 0; i < slices; ++i) {
      for (const auto& [agent, text] : orders) {
        const size_t from = i == 0 ? 0 : text.find('\n', text.size() * i / slices) + 1;
        const size_t to = i + 1 == slices ? text.size() : text.find('\n', text.size() * (i + 1) / slices) + 1;
        std::ofstream(dir / agent + "/orders.jsonl", std::ios::app) << text.substr(from, to - from);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const std::string config = write_etl_cluster_config(dir, ports);
  std::vector<node_process> nodes{start_node(dir, config, "aggregator", false), start_node(dir, config, "agent-1", false),
                                  start_node(dir, config, "agent-2", false)};
  wait_for_log(dir / "aggregator.log", ": written", 2);
  kill_and_restart(dir, config, nodes[0]);
  wait_for_log(dir / "agent-1.log", "rewinding");
  wait_for_log(dir / "aggregator.log", ": written", 4);
  kill_and_restart(dir, config, nodes[1]);
  wait_for_log(dir / "aggregator.log", "agent agent-1 restarted");
  writer.join();
  wait_for_log(dir / "aggregator.log", ": written", occurrences(dir / "aggregator.log", ": written") + 2);
  stop_then_finish(dir, config, nodes);
  check_same_etl_results(dir);
}
