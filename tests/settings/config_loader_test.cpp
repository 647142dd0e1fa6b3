#include <catch2/catch.hpp>

#include "settings/config_loader.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string example = std::string(VIGIL_SOURCE_DIR) + "/config/vigil.example.toml";

/// The PRODUCT.md example, verbatim, as the minimal valid base.
const char* minimal = R"L([node]
name = "web-1"
state_dir = "var/web-1"

[[source]]
name = "access"
type = "file"
path = "/var/log/nginx/access.log*"

[[window]]
name = "minute"
type = "tumbling"
size = "1m"
)L";

bool has_error(const config_load_result& r, const std::string& text) {
  for (const auto& e : r.errors)
    if (to_string(e).find(text) != std::string::npos) return true;
  return false;
}

std::string all_errors(const config_load_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += to_string(e) + "\n";
  return s;
}

} // namespace

TEST_CASE("the PRODUCT.md example config loads with every value as written") {
  auto r = load_config(example);
  INFO(all_errors(r));
  REQUIRE(r.config);
  const auto& c = *r.config;
  CHECK(c.node.name == "web-1");
  CHECK(c.node.http == "127.0.0.1:9464");
  CHECK(c.node.checkpoint_interval == duration_ms{1000});
  REQUIRE(c.sources.size() == 1);
  CHECK(c.sources[0].format == log_format::combined);
  CHECK(c.sources[0].start_at == start_position::beginning);
  REQUIRE(c.windows.size() == 2);
  CHECK(c.windows[0].size == duration_ms{60000});
  CHECK(c.windows[0].allowed_lateness == duration_ms{10000});
  CHECK(c.windows[1].group_by == std::vector<std::string>{"ip"});
  REQUIRE(c.rules.size() == 2);
  CHECK(c.rules[0].level == severity::critical);
  REQUIRE(c.sinks.size() == 2);
  CHECK(c.sinks[1].input == sink_input::window);
  CHECK(c.sinks[1].window == "minute");
}

TEST_CASE("defaults apply to keys left out") {
  auto r = load_config_text(minimal, "min.toml");
  INFO(all_errors(r));
  REQUIRE(r.config);
  CHECK(r.config->node.http == "127.0.0.1:9464");
  CHECK(r.config->sources[0].format == log_format::auto_detect);
  CHECK(r.config->windows[0].allowed_lateness == duration_ms{0});
  CHECK(r.config->windows[0].max_groups == 100000);
}

TEST_CASE("each error names the file, line, key path and what is wrong") {
  std::string text = std::string(minimal) + R"L(allowed_lateness = "10 seconds"
group_by = ["ip", "country_code"]

[[rule]]
name = "r1"
window = "hour"
when = "error_rate > 0.05 &&& requests"

[[rule]]
name = "r1"
window = "minute"
when = "latency_p99 > 2000000"
severity = "fatal"

[[sink]]
name = "out"
type = "jsonl"
input = "window:minute"
pth = "x.jsonl"
)L";
  auto r = load_config_text(text, "bad.toml");
  CHECK_FALSE(r.config);
  INFO(all_errors(r));
  CHECK(has_error(r, "bad.toml:14:20: window[minute].allowed_lateness: expected a duration"));
  CHECK(has_error(r, "bad.toml:15:12: window[minute].group_by: unknown event field \"country_code\""));
  CHECK(has_error(r, "bad.toml:19:10: rule[r1].window: no window named \"hour\" (defined: minute)"));
  CHECK(has_error(r, "bad.toml:20:8: rule[r1].when: syntax error at position"));
  CHECK(has_error(r, "rule[r1].name: another rule has this name"));
  CHECK(has_error(r, "bad.toml:26:12: rule[r1].severity: unknown value \"fatal\""));
  CHECK(has_error(r, "bad.toml:32:7: sink[out].pth: unknown key (did you mean 'path'?)"));
  CHECK(has_error(r, "sink[out].path: missing (required)"));
}

TEST_CASE("a TOML syntax error reports its line") {
  auto r = load_config_text("[node]\nname = \"x\nstate_dir = 1\n", "syntax.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(to_string(r.errors[0]).rfind("syntax.toml:2:", 0) == 0);
  CHECK(to_string(r.errors[0]).find("TOML syntax") != std::string::npos);
}

TEST_CASE("an unclosed quote is named as one, with the line, and a bare number for a duration gets the hint") {
  auto r = load_config_text("[node]\nname = \"x\nstate_dir = \"s\"\n", "quote.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(to_string(r.errors[0])
        == "quote.toml:2:10: TOML syntax: a string is not closed: a quote is missing before the end of the line\n"
           "    name = \"x");
  r = load_config_text("[node]\nname = \"x\"\nstate_dir = \"s\"\ncheckpoint_interval = 5\n"
                       "[[source]]\nname = \"in\"\ntype = \"stdin\"\n", "number.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(to_string(r.errors[0]) == "number.toml:4:23: node.checkpoint_interval: expected a duration as a string like "
                                  "\"250ms\", \"30s\", \"1m\", \"2h\" or \"1d\", got an integer (e.g. \"5s\")");
}

TEST_CASE("window shapes are checked by type") {
  std::string text = R"L([node]
name = "n"
state_dir = "s"
[[source]]
name = "in"
type = "stdin"
[[window]]
name = "slide"
type = "sliding"
size = "1m"
slide = "7s"
[[window]]
name = "sess"
type = "session"
[[window]]
name = "typo"
type = "sliding"
size = "1d"
slide = "1ms"
[[window]]
name = "fine"
type = "sliding"
size = "1d"
slide = "10s"
max_state_bytes = "256MiB"
[[window]]
name = "tiny"
type = "tumbling"
size = "1m"
max_state_bytes = "10KB"
)L";
  auto r = load_config_text(text, "w.toml");
  INFO(all_errors(r));
  CHECK(has_error(r, "window[slide].slide: must be above 0 and divide size (1m)"));
  CHECK(has_error(r, "window[sess].gap: missing (required)"));
  // 86,400,000 windows for each event: a typo for "1m", refused before any runs.
  CHECK(has_error(r, "window[typo].slide: size 1d over slide 1ms puts each event in 86400000 windows; at most 10000"));
  CHECK_FALSE(has_error(r, "window[fine]"));
  CHECK(has_error(r, "window[tiny].max_state_bytes: expected a size of at least 1MiB"));
}

TEST_CASE("an environment overlay merges tables and [[sections]] by name") {
  config_load_options opts;
  opts.environment = "production";
  auto r = load_config(example, opts);
  INFO(all_errors(r));
  REQUIRE(r.config);
  CHECK(r.config->environment == "production");
  CHECK(r.config->node.state_dir == "/var/lib/vigil/web-1");
  CHECK(r.config->node.name == "web-1");  // untouched keys stay
  REQUIRE(r.config->sinks.size() == 2);   // merged by name, not appended
  CHECK(r.config->sinks[0].path == "/var/lib/vigil/web-1/alerts.jsonl");
  CHECK(r.config->sinks[0].type == sink_type::jsonl);

  opts.environment = "staging";
  auto missing = load_config(example, opts);
  CHECK(has_error(missing, "environment \"staging\" is not defined in the file (defined: production)"));
}

TEST_CASE("VIGIL_* variables override single keys, and bad ones say which variable") {
  config_load_options opts;
  opts.variables = {{"VIGIL_NODE_HTTP", "0.0.0.0:9999"},
                    {"VIGIL_WINDOW_IP_MINUTE_SIZE", "5m"},
                    {"VIGIL_WINDOW_MINUTE_GROUP_BY", "[\"status\"]"},
                    {"VIGIL_SINK_ALERTS_PATH", "/tmp/a.jsonl"},
                    {"VIGIL_BENCH_DIR", "/tmp"}};  // not an override: ignored
  auto r = load_config(example, opts);
  INFO(all_errors(r));
  REQUIRE(r.config);
  CHECK(r.config->node.http == "0.0.0.0:9999");
  CHECK(r.config->windows[1].size == duration_ms{300000});
  CHECK(r.config->windows[0].group_by == std::vector<std::string>{"status"});
  CHECK(r.config->sinks[0].path == "/tmp/a.jsonl");

  opts.variables = {{"VIGIL_WINDOW_MINUTE_SIZE", "soon"}, {"VIGIL_SOURCE_NOPE_PATH", "/x"}};
  auto bad = load_config(example, opts);
  CHECK(has_error(bad, "environment VIGIL_WINDOW_MINUTE_SIZE: window[minute].size: expected a duration"));
  CHECK(has_error(bad, "environment VIGIL_SOURCE_NOPE_PATH: source: no source"));
}

TEST_CASE("a VIGIL_* variable goes to the entry with the longest name that starts it") {
  test::temp_dir dir;
  test::write_file(dir / "c.toml", "[node]\nname = \"n\"\nstate_dir = \"s\"\n"
                                   "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"a.log\"\n"
                                   "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n"
                                   "[[sink]]\nname = \"minute\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = \"m.jsonl\"\n"
                                   "[[sink]]\nname = \"minute_pg\"\ntype = \"postgres\"\ninput = \"window:minute\"\n");
  config_load_options opts;
  opts.variables = {{"VIGIL_SINK_MINUTE_PG_DSN", "host=db dbname=shop"}, {"VIGIL_SINK_MINUTE_PATH", "/tmp/m.jsonl"}};
  auto r = load_config(dir / "c.toml", opts);
  INFO(all_errors(r));
  REQUIRE(r.config);
  CHECK(r.config->sinks[1].dsn == "host=db dbname=shop");
  CHECK(r.config->sinks[0].path == "/tmp/m.jsonl");
}

TEST_CASE("vigil check-config exits 0 on a good config and 2 listing every error") {
  const std::string bin = VIGIL_BINARY;
  auto ok = test::run_command(bin + " check-config -c '" + example + "'");
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("ok (node web-1; 1 sources, 2 windows, 2 rules, 1 detectors, 2 sinks)") != std::string::npos);
  test::temp_dir dir;
  test::write_file(dir / "bad.toml", "[node]\nname = \"x\"\n");
  auto bad = test::run_command(bin + " check-config -c '" + (dir / "bad.toml") + "' 2>&1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("node.state_dir: missing (required)") != std::string::npos);
  CHECK(bad.out.find("no [[source]]") != std::string::npos);
  CHECK(test::run_command(bin + " check-config -c /nonexistent.toml 2>/dev/null").exit_code == 2);
}

TEST_CASE("a node has one quarantine sink: a second one is an error that names the first") {
  std::string text = std::string(minimal) + R"L(
[[sink]]
name = "bad"
type = "jsonl"
input = "quarantine"
path = "bad.jsonl"

[[sink]]
name = "bad2"
type = "jsonl"
input = "quarantine"
path = "bad2.jsonl"
)L";
  auto r = load_config_text(text, "q.toml");
  CHECK_FALSE(r.config);
  INFO(all_errors(r));
  CHECK(has_error(r, "sink[bad2].input: a node has one quarantine sink; \"bad\" is it"));
}
