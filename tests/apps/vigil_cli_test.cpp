// Drives the real `vigil` binary: exit codes, files written, output shapes.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

namespace {
const std::string vigil_bin = VIGIL_BINARY;
}

TEST_CASE("vigil analyze writes the JSON, HTML, quarantine and blacklist outputs") {
  test::temp_dir dir;
  auto r = test::run_command(vigil_bin + " analyze '" + test::fixture("combined_mixed.log") + "' --json '"
                             + (dir / "r.json") + "' --html '" + (dir / "r.html") + "' --quarantine '"
                             + (dir / "q.jsonl") + "' --blacklist '" + (dir / "bl.txt") + "'");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("requests        14 total, 11 valid, 3 failed") != std::string::npos);

  json j = json::parse(test::read_file(dir / "r.json"));
  for (const char* key : {"total_requests", "valid_requests", "failed_requests", "unique_visitors",
                          "bandwidth", "first", "last"})
    CHECK(j["summary"].contains(key));
  CHECK(j["summary"]["bandwidth"] == 4980);
  CHECK(j["status_codes"]["404"] == 1);
  CHECK(j["top_paths"][0]["value"] == "/index.html");
  CHECK(j["top_paths"][0]["hits"] == 3);
  CHECK(j["top_paths"][0]["bytes"] == 2000);
  CHECK(j["security"]["blacklist"][0]["client"] == "10.0.0.3");
  CHECK(j["data_quality"]["malformed_by_reason"]["bad_status"] == 1);
  CHECK(j["latency"].is_null());

  std::string html = test::read_file(dir / "r.html");
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("10.0.0.3") != std::string::npos);
  // Self-contained: no scripts, stylesheets or images fetched from anywhere.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  // Hostile text is escaped, never injected.
  CHECK(html.find("<script>alert(1)") == std::string::npos);

  std::string q = test::read_file(dir / "q.jsonl");
  std::vector<json> lines;
  size_t pos = 0;
  while (pos < q.size()) {
    auto nl = q.find('\n', pos);
    lines.push_back(json::parse(q.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["line"] == 9);
  CHECK(lines[0]["reason"] == "truncated");
  CHECK(lines[0]["text"] == "bad line garbage");
  CHECK(lines[1]["line"] == 10);
  CHECK(lines[1]["reason"] == "bad_status");
  CHECK(lines[2]["line"] == 11);
  CHECK(lines[2]["reason"] == "bad_timestamp");

  CHECK(test::read_file(dir / "bl.txt") == "10.0.0.3\n");
}

TEST_CASE("vigil analyze reads standard input and --json - prints only JSON") {
  auto r = test::run_command("cat '" + test::fixture("nasa_common_100.log") + "' | " + vigil_bin
                             + " analyze - --json -");
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["summary"]["total_requests"] == 100);
  CHECK(j["inputs"][0]["format"] == "common");
}

TEST_CASE("vigil exit codes: 2 for usage errors, 1 for runtime failures") {
  CHECK(test::run_command(vigil_bin + " analyze --no-such-flag 2>/dev/null").exit_code == 2);
  CHECK(test::run_command(vigil_bin + " analyze -f xml x.log 2>/dev/null").exit_code == 2);
  CHECK(test::run_command(vigil_bin + " 2>/dev/null").exit_code == 2);
  CHECK(test::run_command(vigil_bin + " analyze /nonexistent.log 2>/dev/null").exit_code == 1);
  test::temp_dir dir;
  test::write_file(dir / "bad.sig", "probe path (unclosed\n");
  auto r = test::run_command(vigil_bin + " analyze --signatures '" + (dir / "bad.sig") + "' '"
                             + test::fixture("combined_mixed.log") + "' 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("bad.sig:1: pattern '(unclosed' does not compile") != std::string::npos);
  auto help = test::run_command(vigil_bin + " analyze --help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--log-format") != std::string::npos);
}

TEST_CASE("vigil state inspect of a directory without a store says so and creates nothing") {
  test::temp_dir dir;
  auto r = test::run_command(std::string(VIGIL_BINARY) + " state inspect --state-dir '" + (dir / "typo") + "' 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("no state store in " + (dir / "typo")) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "typo"));
}

TEST_CASE("vigil analyze --attacks writes each attack request with its line, classes and fields, in input order") {
  test::temp_dir dir;
  // 3000 lines over many 4 KiB chunks and two workers; every 250th an attack.
  std::string log;
  std::vector<std::pair<size_t, std::string>> expected;  // line, class
  for (size_t n = 1; n <= 3000; ++n) {
    std::string target = "/products/" + std::to_string(n) + "?page=2", agent = "Mozilla/5.0";
    if (n % 250 == 0) {
      switch ((n / 250) % 3) {
        case 0: target = "/search?q=1%27+UNION+SELECT+password+FROM+users--"; expected.emplace_back(n, "sqli"); break;
        case 1: target = "/static/..%2f..%2fetc/passwd"; expected.emplace_back(n, "traversal"); break;
        default: agent = "sqlmap/1.7"; expected.emplace_back(n, "scanner"); break;
      }
    }
    log += "10.1.0." + std::to_string(n % 200) + " - - [01/Jan/2024:00:" + (n / 60 % 60 < 10 ? "0" : "")
           + std::to_string(n / 60 % 60) + ":" + (n % 60 < 10 ? "0" : "") + std::to_string(n % 60)
           + " +0000] \"GET " + target + " HTTP/1.1\" 200 10 \"-\" \"" + agent + "\"\n";
  }
  test::write_file(dir / "access.log", log);
  auto r = test::run_command(vigil_bin + " analyze -f combined --no-progress -j 2 --chunk-size 4096 --attacks '"
                             + (dir / "attacks.jsonl") + "' '" + (dir / "access.log") + "'");
  REQUIRE(r.exit_code == 0);
  std::vector<json> found;
  {
    std::istringstream in(test::read_file(dir / "attacks.jsonl"));
    for (std::string line; std::getline(in, line);) found.push_back(json::parse(line));
  }
  REQUIRE(found.size() == expected.size());
  for (size_t i = 0; i < found.size(); ++i) {
    INFO(found[i].dump());
    CHECK(found[i]["line"] == expected[i].first);
    CHECK(found[i]["input"] == dir / "access.log");
    bool has_class = false;
    for (const auto& a : found[i]["attacks"]) has_class |= a["class"] == expected[i].second;
    CHECK(has_class);
  }
  // What matched where: the query, the path once decoded, the user agent.
  auto fields_of = [](const json& record, const std::string& cls) {
    for (const auto& a : record["attacks"])
      if (a["class"] == cls) return a["fields"].get<std::vector<std::string>>();
    return std::vector<std::string>{};
  };
  CHECK(fields_of(found[0], "traversal") == std::vector<std::string>{"path"});
  CHECK(fields_of(found[1], "scanner") == std::vector<std::string>{"user_agent"});
  CHECK(fields_of(found[2], "sqli") == std::vector<std::string>{"query"});
  // And which signatures matched, by id.
  auto signatures_of = [](const json& record, const std::string& cls) {
    for (const auto& a : record["attacks"])
      if (a["class"] == cls) return a["signatures"].get<std::vector<std::string>>();
    return std::vector<std::string>{};
  };
  CHECK(signatures_of(found[1], "scanner") == std::vector<std::string>{"scanner-sqlmap"});
  const auto sqli = signatures_of(found[2], "sqli");
  CHECK(std::find(sqli.begin(), sqli.end(), "sqli-union_select") != sqli.end());
  CHECK(found[2]["target"] == "/search?q=1%27+UNION+SELECT+password+FROM+users--");
  CHECK(found[2]["time"] == "2024-01-01T00:12:30Z");
  CHECK(found[2]["client"] == "10.1.0.150");
  // To stdout with "-", and the terminal summary is not mixed in.
  auto to_stdout = test::run_command(vigil_bin + " analyze -f combined --no-progress --attacks - '"
                                     + (dir / "access.log") + "'");
  REQUIRE(to_stdout.exit_code == 0);
  CHECK(test::occurrences(to_stdout.out, "\n") == expected.size());
}

TEST_CASE("vigil analyze finds attacks in the Referer, the User-Agent and the request line, and reports each class") {
  test::temp_dir dir;
  auto line = [](const std::string& ip, int second, const std::string& request, int status,
                 const std::string& referer, const std::string& agent) {
    return ip + " - - [01/Jan/2024:00:00:" + (second < 10 ? "0" : "") + std::to_string(second) + " +0000] \""
           + request + "\" " + std::to_string(status) + " 10 \"" + referer + "\" \"" + agent + "\"\n";
  };
  std::string log;
  log += line("10.3.0.1", 1, "GET / HTTP/1.1", 200, "http://x.example/?id=1' union select password from users--",
              "Mozilla/5.0");
  log += line("10.3.0.2", 2, "GET /cgi-bin/status HTTP/1.1", 200, "-", "() { :; }; /bin/bash -c 'cat /etc/passwd'");
  log += line("10.3.0.3", 3, "\\x16\\x03\\x01\\x02\\x00", 400, "-", "-");
  log += line("10.3.0.4", 4, "GET /123.html/trackback/ HTTP/1.0", 301, "-", "TrackBack/1.02");
  for (int i = 0; i < 6; ++i) log += line("10.3.0.5", 10 + i, "POST /wp-login.php HTTP/1.1", 401, "-", "Mozilla/5.0");
  log += line("10.3.0.6", 20, "GET /index.html HTTP/1.1", 200, "http://news.example/", "Mozilla/5.0");
  test::write_file(dir / "access.log", log);
  auto r = test::run_command(vigil_bin + " analyze -f combined --no-progress --json '" + (dir / "report.json")
                             + "' --attacks '" + (dir / "attacks.jsonl") + "' '" + (dir / "access.log") + "'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, json> by_client;
  {
    std::istringstream in(test::read_file(dir / "attacks.jsonl"));
    for (std::string l; std::getline(in, l);) {
      const json j = json::parse(l);
      by_client[j["client"].get<std::string>()] = j["attacks"];
    }
  }
  auto has = [&](const std::string& client, const std::string& cls, const std::string& field, const std::string& id) {
    INFO(client << " " << cls << " " << field << " " << id << ": " << by_client[client].dump());
    for (const auto& a : by_client[client]) {
      if (a["class"] != cls) continue;
      const auto fields = a["fields"].get<std::vector<std::string>>();
      const auto ids = a["signatures"].get<std::vector<std::string>>();
      return std::find(fields.begin(), fields.end(), field) != fields.end()
             && std::find(ids.begin(), ids.end(), id) != ids.end();
    }
    return false;
  };
  CHECK(has("10.3.0.1", "sqli", "referer", "sqli-union_select"));
  CHECK(has("10.3.0.2", "shellshock", "user_agent", "shellshock-function"));
  CHECK(has("10.3.0.2", "traversal", "user_agent", "traversal-unix_file"));
  CHECK(has("10.3.0.3", "bad_request", "request_line", "bad_request-not_http"));
  CHECK(has("10.3.0.4", "badbot", "user_agent", "badbot-spam_bot"));
  CHECK(by_client.count("10.3.0.6") == 0);  // an ordinary page with an ordinary referer
  // Failed logins are not attack requests, but the report's `auth` finding.
  CHECK(by_client.count("10.3.0.5") == 1);  // /wp-login.php is a WordPress probe

  const json report = json::parse(test::read_file(dir / "report.json"));
  std::map<std::string, uint64_t> hits;
  for (const auto& f : report["security"]["findings"]) hits[f["class"].get<std::string>()] = f["hits"];
  CHECK(hits["sqli"] == 1);
  CHECK(hits["shellshock"] == 1);
  CHECK(hits["bad_request"] == 1);
  CHECK(hits["badbot"] == 1);
  CHECK(hits["auth"] == 6);
  std::map<std::string, std::vector<std::string>> blacklisted;
  for (const auto& e : report["security"]["blacklist"])
    blacklisted[e["client"].get<std::string>()] = e["reasons"].get<std::vector<std::string>>();
  CHECK(blacklisted["10.3.0.4"] == std::vector<std::string>{"badbot_ua"});
  CHECK(blacklisted.count("10.3.0.6") == 0);
}
