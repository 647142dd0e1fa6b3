#include <catch2/catch.hpp>

#include "settings/config_loader.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string shared = R"L(
[node]
checkpoint_interval = "2s"

[[window]]
name = "minute"
type = "tumbling"
size = "1m"
)L";

// A [[cluster.node]]; an agent gets a file source unless `extra` has one,
// and no HTTP port unless `extra` gives one (nodes on one host need their own).
std::string node(const std::string& name, const std::string& role, const std::string& endpoint,
                 const std::string& extra = "") {
  const bool source = role != "agent" || extra.find("[[cluster.node.source]]") != std::string::npos;
  const bool http = extra.find("http = ") != std::string::npos;
  return "\n[[cluster.node]]\nname = \"" + name + "\"\nrole = \"" + role + "\"\nendpoint = \"" + endpoint +
         "\"\nstate_dir = \"var/" + name + "\"\n" + (http ? "" : "http = \"\"\n") + extra +
         (source ? "" : "[[cluster.node.source]]\nname = \"in\"\ntype = \"file\"\npath = \"/logs/in.log\"\n");
}

std::string errors_of(const config_load_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += to_string(e) + "\n";
  return s;
}

config_load_result load(const std::string& text, const std::string& which = "") {
  config_load_options opts;
  opts.node = which;
  return load_config_text(text, "c.toml", opts);
}

} // namespace

TEST_CASE("a cluster config gives each node its own view: entry, sources, shared windows") {
  const std::string text = shared + "[cluster]\n" +
                           node("a1", "agent", "tcp://127.0.0.1:7101",
                                "[[cluster.node.source]]\nname = \"access\"\ntype = \"file\"\npath = \"/logs/a1/*.log\"\n") +
                           node("agg", "aggregator", "tcp://127.0.0.1:7100");
  auto a1 = load(text, "a1");
  INFO(errors_of(a1));
  REQUIRE(a1.config);
  CHECK(a1.config->node.name == "a1");
  CHECK(a1.config->node.state_dir == "var/a1");
  CHECK(a1.config->node.checkpoint_interval.count() == 2000);
  REQUIRE(a1.config->sources.size() == 1);
  CHECK(a1.config->sources[0].path == "/logs/a1/*.log");
  REQUIRE(a1.config->windows.size() == 1);
  REQUIRE(a1.config->cluster.nodes.size() == 2);
  CHECK(a1.config->cluster.nodes[1].role == node_role::aggregator);
  auto agg = load(text, "agg");
  REQUIRE(agg.config);
  CHECK(agg.config->sources.empty());
  CHECK(load(text).config);  // every node checked
  auto unknown = load(text, "a9");
  CHECK_FALSE(unknown.config);
  CHECK(errors_of(unknown).find("no node \"a9\" in the cluster (defined: a1, agg)") != std::string::npos);
}

TEST_CASE("an agent's source must be a file: check-config says so, as run would refuse it") {
  auto r = load(shared + "[cluster]\n" +
                node("a1", "agent", "tcp://127.0.0.1:7101", "[[cluster.node.source]]\nname = \"in\"\ntype = \"stdin\"\n") +
                node("agg", "aggregator", "tcp://127.0.0.1:7100"));
  CHECK_FALSE(r.config);
  CHECK(errors_of(r).find("source[in].type: an agent follows files: type \"stdin\" runs on a single node") !=
        std::string::npos);
}

TEST_CASE("the node set is checked as a whole: names, roles, endpoint clashes, keys, loopback") {
  SECTION("two nodes on one endpoint") {
    auto r = load(shared + "[cluster]\n" + node("a1", "agent", "tcp://127.0.0.1:7100") +
                  node("agg", "aggregator", "tcp://127.0.0.1:7100"));
    CHECK(errors_of(r).find("cluster.node[agg].endpoint: clashes with node a1") != std::string::npos);
  }
  SECTION("no aggregator, a bad role, a bad endpoint, a bad name, a name twice") {
    auto r = load(shared + "[cluster]\n" + node("a1", "agent", "tcp://127.0.0.1:7101") +
                  node("a2", "collector", "127.0.0.1:7102") + node("a 3", "agent", "tcp://127.0.0.1:7103") +
                  node("a1", "agent", "tcp://127.0.0.1:7104"));
    const std::string e = errors_of(r);
    INFO(e);
    CHECK(e.find("no node has role = \"aggregator\"") != std::string::npos);
    CHECK(e.find("cluster.node[a2].role: expected \"agent\" or \"aggregator\"") != std::string::npos);
    CHECK(e.find("cluster.node[a2].endpoint: expected \"tcp://HOST:PORT\"") != std::string::npos);
    CHECK(e.find("cluster.node[a 3].name: expected 1-64 characters") != std::string::npos);
    CHECK(e.find("cluster.node[a1].name: another node has this name") != std::string::npos);
  }
  SECTION("keys on some nodes only") {
    const std::string key = "public_key = \"" + std::string(40, 'A') + "\"\nsecret_key_file = \"k\"\n";
    auto r = load(shared + "[cluster]\n" + node("a1", "agent", "tcp://127.0.0.1:7101", key) +
                  node("agg", "aggregator", "tcp://127.0.0.1:7100"));
    CHECK(errors_of(r).find("Curve keys are set for a1 but not for agg") != std::string::npos);
  }
  SECTION("off loopback without keys: refused unless allowed") {
    const std::string nodes = node("a1", "agent", "tcp://10.0.0.1:7101") + node("agg", "aggregator", "tcp://10.0.0.2:7100");
    auto r = load(shared + "[cluster]\n" + nodes);
    CHECK(errors_of(r).find("cluster.node[a1].endpoint: is not on loopback and the cluster has no Curve keys") !=
          std::string::npos);
    CHECK(load(shared + "[cluster]\nallow_plaintext = true\n" + nodes).config);
  }
  SECTION("an error in a shared section is reported once, not once per node") {
    auto r = load(shared + "size_typo = 1\n[cluster]\n" + node("a1", "agent", "tcp://127.0.0.1:7101") +
                  node("agg", "aggregator", "tcp://127.0.0.1:7100"));
    CHECK(r.errors.size() == 1);
  }
}

TEST_CASE("nodes of one host may not listen on one port, the default http port included") {
  // Two nodes on loopback without http: both would take 127.0.0.1:9464.
  const std::string defaulted = "\n[[cluster.node]]\nname = \"a1\"\nrole = \"agent\"\nendpoint = \"tcp://127.0.0.1:7101\"\n"
                                "[[cluster.node.source]]\nname = \"in\"\ntype = \"file\"\npath = \"/logs/in.log\"\n"
                                "\n[[cluster.node]]\nname = \"agg\"\nrole = \"aggregator\"\nendpoint = \"tcp://127.0.0.1:7100\"\n";
  auto d = load(shared + "[cluster]\n" + defaulted);
  CHECK(errors_of(d).find("cluster.node[agg].http: 127.0.0.1:9464 clashes with http of node a1 (127.0.0.1:9464) on "
                          "the same host (the default: set http for each node)") != std::string::npos);
  std::string text = shared + "[cluster]\n" + node("a1", "agent", "tcp://127.0.0.1:7101", "http = \"127.0.0.1:9470\"\n")
                     + node("a2", "agent", "tcp://localhost:7102", "http = \"localhost:9470\"\n")
                     + node("agg", "aggregator", "tcp://127.0.0.1:7100", "http = \"0.0.0.0:7101\"\n");
  auto r = load(text);
  INFO(errors_of(r));
  CHECK_FALSE(r.config);
  CHECK(errors_of(r).find("cluster.node[a2].http: localhost:9470 clashes with http of node a1 (127.0.0.1:9470) on "
                          "the same host\n") != std::string::npos);
  // A wildcard takes the port on every address, the endpoint's included.
  CHECK(errors_of(r).find("cluster.node[agg].http: 0.0.0.0:7101 clashes with endpoint of node a1") != std::string::npos);
  // With --node the others are checked too: the clash is the same.
  CHECK(errors_of(load(text, "a2")).find("http: 127.0.0.1:9470 clashes with http of node a2") != std::string::npos);
  // Nodes on other hosts may use the same port.
  text = shared + "[cluster]\nallow_plaintext = true\n" + node("a1", "agent", "tcp://10.0.0.1:7101", "http = \"127.0.0.1:9464\"\n")
         + node("agg", "aggregator", "tcp://10.0.0.2:7101", "http = \"127.0.0.1:9464\"\n");
  auto apart = load(text);
  INFO(errors_of(apart));
  CHECK(apart.config);
}

TEST_CASE("with --node and Curve keys, the node's secret key file must hold the key of its public_key") {
  test::temp_dir dir;
  const std::string bin = VIGIL_BINARY;
  for (const char* n : {"a1", "agg"})
    REQUIRE(test::run_command(bin + " keygen --node " + n + " --dir '" + dir.path.string() + "' >/dev/null").exit_code == 0);
  auto pub = [&](const std::string& n) {
    std::string k = test::read_file(dir / (n + ".pub"));
    return k.substr(0, 40);
  };
  auto keyed = [&](const std::string& n, const std::string& secret_of) {
    return "public_key = \"" + pub(n) + "\"\nsecret_key_file = \"" + (dir / (secret_of + ".key")) + "\"\n";
  };
  auto text = [&](const std::string& a1_secret) {
    return shared + "[cluster]\n" +
           node("a1", "agent", "tcp://10.0.0.1:7101",
                keyed("a1", a1_secret) + "[[cluster.node.source]]\nname = \"in\"\ntype = \"file\"\npath = \"/logs/in.log\"\n") +
           node("agg", "aggregator", "tcp://10.0.0.2:7100", keyed("agg", "agg"));
  };
  // Keys: off loopback is fine.
  auto good = load(text("a1"), "a1");
  INFO(errors_of(good));
  CHECK(good.config);
  auto wrong = load(text("agg"), "a1");  // agg's secret under a1's public key
  CHECK(errors_of(wrong).find("does not belong to the public_key of node a1") != std::string::npos);
}

TEST_CASE("the example clusters in deploy/ pass check-config, and a second aggregator needs sinks of its own") {
  const std::string bin = VIGIL_BINARY, file = std::string(VIGIL_SOURCE_DIR) + "/deploy/cluster.toml";
  auto all = test::run_command(bin + " check-config -c '" + file + "' 2>&1");
  INFO(all.out);
  CHECK(all.exit_code == 0);
  CHECK(all.out.find("cluster of 3 nodes: 2 agents, 1 aggregator") != std::string::npos);
  CHECK(test::run_command(bin + " check-config -c '" + file + "' --node aggregator 2>&1").exit_code == 0);

  // A second aggregator writing the first one's files is refused; with
  // sinks of its own it is a valid cluster.
  test::temp_dir dir;
  const std::string second = R"(
[[cluster.node]]
name = "aggregator-2"
role = "aggregator"
endpoint = "tcp://127.0.0.1:7199"
state_dir = "var/cluster/aggregator-2"
http = "127.0.0.1:9499"
)";
  test::write_file(dir / "shared.toml", test::read_file(file) + second);
  auto shared_sinks = test::run_command(bin + " check-config -c '" + (dir / "shared.toml") + "' 2>&1");
  INFO(shared_sinks.out);
  CHECK(shared_sinks.exit_code == 2);
  CHECK(shared_sinks.out.find("writes var/cluster/alerts.jsonl, as aggregator aggregator does") != std::string::npos);
  test::write_file(dir / "own.toml", test::read_file(file) + second + R"(
[[cluster.node.sink]]
name = "alerts"
type = "jsonl"
input = "alerts"
path = "var/cluster/aggregator-2/alerts.jsonl"
)");
  auto own = test::run_command(bin + " check-config -c '" + (dir / "own.toml") + "' 2>&1");
  INFO(own.out);
  CHECK(own.exit_code == 0);
  CHECK(own.out.find("2 agents, 2 aggregators") != std::string::npos);

  const std::string two = std::string(VIGIL_SOURCE_DIR) + "/deploy/cluster-two-aggregators.toml";
  auto example = test::run_command(bin + " check-config -c '" + two + "' 2>&1");
  INFO(example.out);
  CHECK(example.exit_code == 0);
  CHECK(example.out.find("cluster of 4 nodes: 2 agents, 2 aggregators") != std::string::npos);
}

TEST_CASE("an ETL cluster: agents take schema sources, and only the first aggregator writes records") {
  const std::string etl = R"L(
[[schema]]
name = "order"
[[schema.field]]
name = "order_id"
type = "string"
)L";
  const std::string agent = node("a1", "agent", "tcp://127.0.0.1:7301",
                                 "[[cluster.node.source]]\nname = \"orders\"\ntype = \"file\"\npath = \"/in/orders.jsonl\"\n"
                                 "schema = \"order\"\n");
  const std::string records = "[[cluster.node.sink]]\nname = \"records\"\ntype = \"jsonl\"\ninput = \"records\"\n"
                              "path = \"var/records.jsonl\"\n";
  auto good = load(shared + etl + "[cluster]\n" + agent + node("g1", "aggregator", "tcp://127.0.0.1:7302", records));
  INFO(errors_of(good));
  CHECK(good.errors.empty());
  auto twice = load(shared + etl + "[cluster]\n" + agent + node("g1", "aggregator", "tcp://127.0.0.1:7302") +
                    node("g2", "aggregator", "tcp://127.0.0.1:7303", records));
  CHECK(errors_of(twice).find("cluster.node[g2].sink: sink records writes records, which aggregator g1 writes: record "
                              "sinks go on the first aggregator only") != std::string::npos);
}
