// A single `vigil run` serves /metrics, /healthz and /readyz on node.http:
// scraped through a real socket while it runs.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string bin = VIGIL_BINARY;

std::string config(const test::temp_dir& dir, int port, const std::string& minute_sink) {
  const std::string cfg =
    "[node]\nname = \"web-9\"\nstate_dir = \"" + (dir / "state") + "\"\nhttp = \"127.0.0.1:" + std::to_string(port)
    + "\"\ncheckpoint_interval = \"100ms\"\n\n"
      "[[source]]\nname = \"in\"\ntype = \"file\"\npath = \"" + (dir / "access.log") + "\"\nformat = \"combined\"\n\n"
      "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n\n"
      "[[sink]]\nname = \"minutes\"\ntype = \"jsonl\"\ninput = \"window:minute\"\npath = \"" + minute_sink + "\"\n";
  test::write_file(dir / "t.toml", cfg);
  return dir / "t.toml";
}

} // namespace

TEST_CASE("a single node serves /metrics, /healthz and /readyz while it runs") {
  test::temp_dir dir;
  // 3,000 lines, 5 of them malformed.
  std::string log;
  for (int i = 0; i < 3000; ++i) {
    log += "10.0.0." + std::to_string(i % 50) + " - - [01/Jan/2024:00:00:" + (i % 60 < 10 ? "0" : "")
           + std::to_string(i % 60) + " +0000] \"GET /p" + std::to_string(i) + " HTTP/1.1\" 200 10 \"-\" \"ua\"\n";
    if (i % 600 == 0) log += "not a log line\n";
  }
  test::write_file(dir / "access.log", log);
  const int port = test::free_port();
  const std::string cfg = config(dir, port, dir / "minute.jsonl");
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  REQUIRE(pid > 0);
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  std::string page;
  const bool counted = test::wait_until([&] {
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return false;
    page = r->body;
    return test::metric(page, "vigil_source_events_total{source=\"in\"}") == 3000
           && test::metric(page, "vigil_checkpoints_total{result=\"written\"}") >= 2;
  });
  INFO(page);
  INFO(test::read_file(dir / "run.log"));
  REQUIRE(counted);
  CHECK(test::metric(page, "vigil_node_info{node=\"web-9\",role=\"single\"}") == 1);
  CHECK(test::metric(page, "vigil_source_malformed_lines_total{source=\"in\"}") == 5);
  double by_reason = 0;
  for (const char* reason : {"truncated", "bad_host", "bad_timestamp", "bad_request_line"})
    by_reason += std::max(0.0, test::metric(page, "vigil_source_malformed_lines_by_reason_total{source=\"in\",reason=\""
                                                + std::string(reason) + "\"}"));
  CHECK(by_reason == 5);
  CHECK(test::metric(page, "vigil_source_lag_bytes{source=\"in\"}") == 0);  // read to its end
  CHECK(test::metric(page, "vigil_source_bytes_total{source=\"in\"}") == static_cast<double>(log.size()));
  CHECK(test::metric(page, "vigil_checkpoints_total{result=\"failed\"}") == 0);
  CHECK(test::metric(page, "vigil_checkpoint_last_success_timestamp_seconds") > 1.7e9);
  CHECK(test::metric(page, "vigil_sinks_failing") == 0);
  CHECK(test::metric(page, "vigil_window_open_groups{window=\"minute\"}") == 1);  // the whole stream, minute 0
  CHECK(test::metric(page, "vigil_window_watermark_timestamp_seconds{window=\"minute\"}") == 1704067259);  // 00:00:59
  CHECK(test::metric(page, "vigil_window_late_events_total{window=\"minute\"}") == 0);
  CHECK(test::metric(page, "process_resident_memory_bytes") > 1e6);
  CHECK(test::metric(page, "process_open_fds") > 3);
  CHECK(page.find("# TYPE vigil_source_events_total counter") != std::string::npos);
  // Every checkpoint written is in the duration histogram; the log's newest
  // event (2024-01-01 00:00:59) is years behind the clock.
  CHECK(page.find("# TYPE vigil_checkpoint_duration_seconds histogram") != std::string::npos);
  const double checkpoints = test::metric(page, "vigil_checkpoint_duration_seconds_count");
  CHECK(checkpoints >= 2);
  CHECK(test::metric(page, "vigil_checkpoint_duration_seconds_bucket{le=\"+Inf\"}") == checkpoints);
  CHECK(test::metric(page, "vigil_checkpoint_duration_seconds_bucket{le=\"5\"}") <= checkpoints);
  CHECK(test::metric(page, "vigil_source_event_lag_seconds{source=\"in\"}") > 3e7);
  // Prometheus's own linter takes the page as it is.
  test::write_file(dir / "metrics.txt", page);
  auto lint = test::run_command("promtool check metrics < '" + dir / "metrics.txt" + "' 2>&1");
  INFO(lint.out);
  CHECK(lint.exit_code == 0);
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(test::contains(test::read_file(dir / "run.log"), "dashboard on http://127.0.0.1:" + std::to_string(port) + "/"));
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
}

TEST_CASE("a single node whose sink fails is not ready, and says why") {
  test::temp_dir dir;
  test::write_file(dir / "access.log",
                   "1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n"
                   "1.1.1.1 - - [01/Jan/2024:00:05:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n");
  const int port = test::free_port();
  // /dev/full: every write fails (ENOSPC); the first window result goes there.
  const std::string cfg = config(dir, port, "/dev/full");
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  REQUIRE(pid > 0);
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  std::string why;
  const bool unready = test::wait_until([&] {
    auto r = client.Get("/readyz");
    if (!r) return false;
    why = r->body;
    return r->status == 503 && test::contains(why, "sink(s) failing");
  });
  INFO(why);
  INFO(test::read_file(dir / "run.log"));
  CHECK(unready);
  CHECK(why == "not ready: 1 sink(s) failing to write\n");
  auto page = client.Get("/metrics");
  REQUIRE(page);
  CHECK(test::metric(page->body, "vigil_sinks_failing") == 1);
  ::kill(pid, SIGKILL);  // a stop would wait for the sink, which never succeeds
  test::wait_process(pid);
}

TEST_CASE("a single node whose source has nothing to follow is not ready, and says why") {
  test::temp_dir dir;
  const int port = test::free_port();
  const std::string cfg = config(dir, port, dir / "minute.jsonl");  // access.log does not exist
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  REQUIRE(pid > 0);
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  std::string why;
  CHECK(test::wait_until([&] {
    auto r = client.Get("/readyz");
    if (!r) return false;
    why = r->body;
    return r->status == 503 && test::contains(why, "source in:");
  }));
  CHECK(why == "not ready: source in: no file matches " + (dir / "access.log") + " yet\n");
  // The file appears: ready.
  test::write_file(dir / "access.log", "1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n");
  CHECK(test::wait_until([&] {
    auto r = client.Get("/readyz");
    return r && r->status == 200;
  }));
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
}

TEST_CASE("a single node whose HTTP port is taken fails the start, before reading input") {
  test::temp_dir dir;
  test::write_file(dir / "access.log", "1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n");
  httplib::Server holder;
  const int port = holder.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  const std::string cfg = config(dir, port, dir / "minute.jsonl");
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(test::contains(r.out, "node.http 127.0.0.1:" + std::to_string(port) + ": cannot listen there"));
  CHECK(test::read_file(dir / "minute.jsonl").empty());
}

TEST_CASE("a real Prometheus scrapes a running node, and its query API returns the events counter, increasing") {
  const std::string prometheus_bin = "/usr/bin/prometheus";
  REQUIRE(std::filesystem::exists(prometheus_bin));  // deploy/install-deps.sh installs it
  test::temp_dir dir;
  const int node_port = test::free_port(), prom_port = test::free_port();
  test::write_file(dir / "prometheus.yml", "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vigil\n"
                                           "    static_configs:\n      - targets: ['127.0.0.1:"
                                             + std::to_string(node_port) + "']\n");
  pid_t prom = test::spawn_process({prometheus_bin, "--config.file=" + (dir / "prometheus.yml"),
                                    "--storage.tsdb.path=" + (dir / "tsdb"),
                                    "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                                   dir / "prometheus.log");
  REQUIRE(prom > 0);
  test::stop_at_exit stop_prometheus{prom};

  std::string log;
  for (int i = 0; i < 500; ++i)
    log += "10.0.0.1 - - [01/Jan/2024:00:00:" + std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60)
           + " +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"ua\"\n";
  test::write_file(dir / "access.log", log);
  pid_t node = test::spawn_process({bin, "run", "-c", config(dir, node_port, dir / "minute.jsonl")}, dir / "run.log");
  REQUIRE(node > 0);
  httplib::Client client("127.0.0.1", prom_port);
  client.set_connection_timeout(2);
  auto events = [&]() -> double {
    auto r = client.Get("/api/v1/query?query=vigil_source_events_total%7Bsource%3D%22in%22%7D");
    if (!r || r->status != 200) return -1;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.is_object() || j["data"]["result"].empty()) return -1;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  double first = -1;
  const bool scraped = test::wait_until([&] { return (first = events()) == 500; });
  INFO(test::read_file(dir / "prometheus.log"));
  REQUIRE(scraped);
  {
    std::ofstream out(dir / "access.log", std::ios::app);
    out << log;
  }
  double later = -1;
  CHECK(test::wait_until([&] { return (later = events()) == 1000; }));
  CHECK(later > first);
  ::kill(node, SIGTERM);
  CHECK(test::wait_process(node) == 0);
}

TEST_CASE("vigil run --log-json writes one JSON object a line, with node and component, every string escaped") {
  test::temp_dir dir;
  // A path with a quote and a backslash in it ends up in a message.
  const std::string odd = dir / "we\"ird\\dir";
  std::filesystem::create_directories(odd);
  std::string cfg = config(dir, test::free_port(), dir / "minute.jsonl");
  std::string text = test::read_file(cfg);
  const std::string from = "path = \"" + (dir / "access.log") + "\"";
  text.replace(text.find(from), from.size(), "path = '" + odd + "/none.log'");
  test::write_file(cfg, text);
  pid_t pid = test::spawn_process({bin, "run", "-c", cfg, "--log-json"}, dir / "run.log");
  REQUIRE(pid > 0);
  REQUIRE(test::wait_until([&] { return test::contains(test::read_file(dir / "run.log"), "waiting"); }));
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
  const std::string log = test::read_file(dir / "run.log");
  INFO(log);
  size_t lines = 0;
  bool found = false;
  for (size_t p = 0; p < log.size();) {
    const size_t nl = log.find('\n', p);
    const auto j = nlohmann::json::parse(log.substr(p, nl - p));  // throws, failing the test, if not JSON
    p = nl + 1;
    ++lines;
    CHECK(j["node"] == "web-9");
    CHECK(j["time"].get<std::string>().back() == 'Z');
    for (const char* key : {"level", "component", "msg"}) CHECK(j.contains(key));
    if (j["component"] == "source in" && j["level"] == "warning"
        && j["msg"] == "source in: no file matches " + odd + "/none.log yet; waiting")
      found = true;
  }
  CHECK(lines >= 3);
  CHECK(found);
}

TEST_CASE("the dashboard in a real headless Chromium shows the live figures and a firing alert") {
  const std::string chromium = "/usr/bin/chromium";
  REQUIRE(std::filesystem::exists(chromium));  // deploy/install-deps.sh installs it
  test::temp_dir dir;
  std::string log;
  for (int i = 0; i < 1200; ++i)
    log += "10.0.0." + std::to_string(i % 40) + " - - [01/Jan/2024:00:00:" + (i % 60 < 10 ? "0" : "")
           + std::to_string(i % 60) + " +0000] \"GET /p HTTP/1.1\" 200 10 \"-\" \"ua\"\n";
  for (const char* probe : {"/.env", "/.git/config", "/.aws/credentials", "/.htpasswd", "/.svn/entries"})
    log += std::string("203.0.113.77 - - [01/Jan/2024:00:00:30 +0000] \"GET ") + probe + " HTTP/1.1\" 404 1 \"-\" \"ua\"\n";
  test::write_file(dir / "access.log", log);
  const int port = test::free_port();
  std::string cfg = test::read_file(config(dir, port, dir / "minute.jsonl"));
  cfg += "\n[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\n"
         "\n[[rule]]\nname = \"scanner\"\nwindow = \"ip_minute\"\nwhen = \"probes >= 5\"\nseverity = \"warning\"\n";
  test::write_file(dir / "t.toml", cfg);
  pid_t pid = test::spawn_process({bin, "run", "-c", dir / "t.toml"}, dir / "run.log");
  REQUIRE(pid > 0);
  httplib::Client client("127.0.0.1", port);
  REQUIRE(test::wait_until([&] {
    auto r = client.Get("/api/v1/alerts");
    return r && r->status == 200 && test::contains(r->body, "203.0.113.77");
  }));
  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->get_header_value("Content-Type").rfind("text/html", 0) == 0);
  CHECK(page->body.find("src=") == std::string::npos);  // self-contained: nothing fetched from elsewhere
  // The top strip shows the last checkpoint: wait for the first one (it may
  // trail the alert on a loaded machine).
  REQUIRE(test::wait_until([&] {
    auto r = client.Get("/api/v1/status");
    return r && r->status == 200 && nlohmann::json::parse(r->body)["checkpoints"]["written"].get<uint64_t>() > 0;
  }));
  // The page as a browser renders it, scripts run, after 4 s of its event stream.
  auto dom = test::run_command(chromium + " --headless --no-sandbox --disable-gpu --timeout=4000 --dump-dom http://127.0.0.1:"
                               + std::to_string(port) + "/ 2>/dev/null");
  INFO(dom.out);
  CHECK(dom.exit_code == 0);
  CHECK(test::contains(dom.out, "<span id=\"ready\" class=\"ok\">ready</span>"));
  CHECK(test::contains(dom.out, "<div class=\"value\" id=\"events\">1205</div>"));
  CHECK(test::contains(dom.out, "<div class=\"value\" id=\"firing\">1</div>"));
  CHECK(test::contains(dom.out, "<td>ip=203.0.113.77</td>"));
  CHECK(test::contains(dom.out, "<td>probes 5 (threshold 5)</td>"));
  CHECK(test::contains(dom.out, "web-9 · single"));
  // The top strip: read to its end, five probes quarantined nothing, checkpoints taken.
  CHECK(test::contains(dom.out, "<div class=\"sub\" id=\"lag-bytes\">0.0 MB unread</div>"));
  CHECK(test::contains(dom.out, "<div class=\"value\" id=\"quarantined\">0</div>"));
  CHECK(test::contains(dom.out, "<div class=\"sub\" id=\"checkpoint-took\">took "));
  // The stage graph, in pipeline order, and the windows.
  const size_t parse_box = dom.out.find("<div class=\"name\">parse:in</div>");
  const size_t windows_box = dom.out.find("<div class=\"name\">windows</div>");
  const size_t sink_box = dom.out.find("<div class=\"name\">sink:minutes</div>");
  CHECK(parse_box < windows_box);
  CHECK(windows_box < sink_box);
  CHECK(sink_box != std::string::npos);
  CHECK(test::contains(dom.out, "% busy</div>"));
  CHECK(test::contains(dom.out, "<td>ip_minute</td>"));

  // The stream that keeps the page current: Server-Sent Events of the status.
  std::string stream;
  client.Get("/api/v1/events", [&](const char* data, size_t n) {
    stream.append(data, n);
    return stream.find("\n\n") == std::string::npos;  // stop after the first event
  });
  REQUIRE(stream.rfind("data: ", 0) == 0);
  auto event = nlohmann::json::parse(stream.substr(6, stream.find("\n\n") - 6));
  CHECK(event["node"] == "web-9");
  CHECK(event["alerts"].size() == 1);
  CHECK(event["sources"][0]["events"] == 1205);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(test::metric(metrics->body, "vigil_alerts_total{rule=\"scanner\",severity=\"warning\",status=\"firing\"}") == 1);
  // Every line went through the parse stage and the window stage.
  CHECK(test::metric(metrics->body, "vigil_stage_items_total{stage=\"parse:in\",direction=\"out\"}") == 1205);
  CHECK(test::metric(metrics->body, "vigil_stage_items_total{stage=\"windows\",direction=\"in\"}") == 1205);
  CHECK(test::metric(metrics->body, "vigil_stage_busy_seconds_total{stage=\"windows\"}") > 0);
  CHECK(test::metric(metrics->body, "vigil_checkpoint_bytes_count") >= 1);
  auto status = nlohmann::json::parse(client.Get("/api/v1/status")->body);
  CHECK(status["ready"] == true);
  CHECK(status["checkpoints"]["written"].get<uint64_t>() > 0);
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
}

TEST_CASE("the dashboard ranks a keyed window's top keys by the metric its picker chose, kept in the address") {
  const std::string chromium = "/usr/bin/chromium";
  REQUIRE(std::filesystem::exists(chromium));  // deploy/install-deps.sh installs it
  test::temp_dir dir;
  // Minute 0: 10.0.0.N sends 10*N requests, all 200; 10.0.0.9 sends three
  // that are 404s. A line two minutes on closes minute 0.
  std::string log;
  for (int n = 1; n <= 5; ++n)
    for (int i = 0; i < 10 * n; ++i)
      log += "10.0.0." + std::to_string(n) + " - - [01/Jan/2024:00:00:1" + std::to_string(i % 10)
             + " +0000] \"GET /p HTTP/1.1\" 200 10 \"-\" \"ua\"\n";
  for (int i = 0; i < 3; ++i) log += "10.0.0.9 - - [01/Jan/2024:00:00:20 +0000] \"GET /nope HTTP/1.1\" 404 1 \"-\" \"ua\"\n";
  log += "10.0.0.1 - - [01/Jan/2024:00:02:30 +0000] \"GET /p HTTP/1.1\" 200 10 \"-\" \"ua\"\n";
  test::write_file(dir / "access.log", log);
  const int port = test::free_port();
  std::string cfg = test::read_file(config(dir, port, dir / "minute.jsonl"));
  cfg += "\n[[window]]\nname = \"ip_minute\"\ntype = \"tumbling\"\nsize = \"1m\"\ngroup_by = [\"ip\"]\n";
  test::write_file(dir / "t.toml", cfg);
  pid_t pid = test::spawn_process({bin, "run", "-c", dir / "t.toml"}, dir / "run.log");
  REQUIRE(pid > 0);
  test::stop_at_exit stop{pid};
  httplib::Client client("127.0.0.1", port);
  nlohmann::json ip_minute;
  REQUIRE(test::wait_until([&] {
    auto r = client.Get("/api/v1/status");
    if (!r || r->status != 200) return false;
    const auto status = nlohmann::json::parse(r->body);
    for (const auto& w : status["windows"])
      if (w["name"] == "ip_minute") ip_minute = w;
    return !ip_minute.is_null() && !ip_minute["last_closed"].get<std::string>().empty();
  }));
  INFO(ip_minute.dump());
  // A ranking per metric, in the order of "metrics"; "top" is the first's.
  const auto names = ip_minute["metrics"].get<std::vector<std::string>>();
  const auto at = [&](const std::string& m) { return std::find(names.begin(), names.end(), m) - names.begin(); };
  REQUIRE(at("requests") < static_cast<long>(names.size()));
  REQUIRE(at("status_4xx") < static_cast<long>(names.size()));
  const auto& by_requests = ip_minute["tops"][at("requests")];
  const auto& by_4xx = ip_minute["tops"][at("status_4xx")];
  REQUIRE(by_requests.size() == 6);
  CHECK(by_requests[0] == nlohmann::json::array({"ip=10.0.0.5", 50}));
  CHECK(by_requests[5] == nlohmann::json::array({"ip=10.0.0.9", 3}));
  CHECK(ip_minute["top"] == ip_minute["tops"][0]);
  REQUIRE(by_4xx.size() == 6);
  CHECK(by_4xx[0] == nlohmann::json::array({"ip=10.0.0.9", 3}));
  CHECK(by_4xx[1][1] == 0);

  auto dom_of = [&](const std::string& address) {
    auto r = test::run_command(chromium + " --headless --no-sandbox --disable-gpu --timeout=3000 --dump-dom '"
                               + address + "' 2>/dev/null");
    return r.exit_code == 0 ? r.out : "";
  };
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/";
  // Without a choice: by the first metric; the picker offers the others.
  const std::string first = dom_of(base);
  INFO(first);
  CHECK(test::contains(first, "<select class=\"rank\" data-window=\"ip_minute\">"));
  CHECK(test::contains(first, "<option value=\"" + std::to_string(at("status_4xx")) + "\">status_4xx</option>"));
  CHECK(test::contains(first, "<th class=\"num\">requests</th></tr><tr><td>ip=10.0.0.5</td><td class=\"num\">50</td>"));
  // Chosen in the address: ranked by 4xx, the prober first.
  const std::string chosen = dom_of(base + "#rank=ip_minute:status_4xx");
  INFO(chosen);
  CHECK(test::contains(chosen, "<th class=\"num\">status_4xx</th></tr><tr><td>ip=10.0.0.9</td><td class=\"num\">3</td>"));
  ::kill(pid, SIGTERM);
  CHECK(test::wait_process(pid) == 0);
  stop.pid = -1;
}
