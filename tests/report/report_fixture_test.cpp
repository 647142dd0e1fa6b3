// Counts below were worked out by hand from the fixture files; the comments
// say which lines each number comes from.

#include <catch2/catch.hpp>

#include "parse/timestamp.hpp"
#include "report/analysis_report.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

analysis_report report_of(const std::string& file, log_format format = log_format::auto_detect) {
  auto out = test::analyze({test::fixture(file)}, 2, format, 4096);
  return build_report(*out.aggregate, report_options{});
}

uint64_t status(const analysis_report& r, uint16_t code) {
  for (auto [c, n] : r.status_codes)
    if (c == code) return n;
  return 0;
}

const attack_finding* finding(const analysis_report& r, signature_class c) {
  for (const auto& f : r.findings)
    if (f.cls == c) return &f;
  return nullptr;
}

} // namespace

TEST_CASE("combined fixture: traffic, errors, visitors and data quality by hand") {
  auto r = report_of("combined_mixed.log");
  // 15 lines: 14 non-empty (line 12 is empty), 3 malformed (9, 10, 11).
  CHECK(r.total_requests == 14);
  CHECK(r.valid_requests == 11);
  CHECK(r.failed_requests == 3);
  CHECK(r.empty_lines == 1);
  CHECK(r.malformed[static_cast<size_t>(parse_error::truncated)] == 1);
  CHECK(r.malformed[static_cast<size_t>(parse_error::bad_status)] == 1);
  CHECK(r.malformed[static_cast<size_t>(parse_error::bad_timestamp)] == 1);
  // 1000+500+20+150+0+0+300+2000+0+1000+10
  CHECK(r.bandwidth == 4980);
  CHECK(status(r, 200) == 5);
  CHECK(status(r, 201) == 1);
  CHECK(status(r, 304) == 1);
  CHECK(status(r, 400) == 1);
  CHECK(status(r, 401) == 1);
  CHECK(status(r, 404) == 1);
  CHECK(status(r, 500) == 1);
  // (client, agent, day): .1 Firefox, .2 curl, .3 zgrab, .3 sqlmap, .4 Googlebot,
  // .6 Chrome, .7 Mozilla on 11 Oct.
  CHECK(r.unique_visitors == 7);
  CHECK(r.sessions == 7);
  // Not static and below 400: lines 1, 3, 7, 8, 13, 14.
  CHECK(r.page_views == 6);
  CHECK(r.static_requests == 1);
  CHECK(r.bot_requests == 1);
  CHECK(r.error_rate == Approx(1.0 / 11));
  CHECK(r.client_error_rate == Approx(3.0 / 11));
  CHECK(r.unique_not_found == 1);
  // Line 13 is 14:05 at +0200, the earliest instant in UTC.
  CHECK(format_rfc3339_utc(*r.first_ms) == "2023-10-10T12:05:00Z");
  CHECK(format_rfc3339_utc(*r.last_ms) == "2023-10-11T00:10:00Z");
  REQUIRE_FALSE(r.top_paths.empty());
  CHECK(r.top_paths[0].value == "/index.html");
  CHECK(r.top_paths[0].hits == 3);
  CHECK(r.top_paths[0].bytes == 2000);
  REQUIRE(r.series.size() == 4);
  CHECK(r.series[1].stats.hits == 4);  // 13:00 UTC: lines 1, 2, 3, 14
  CHECK(r.series[2].stats.hits == 5);  // 14:00 UTC: lines 4-8
  CHECK(r.duplicates == 1);            // line 14 repeats line 1
  CHECK(r.missing_bytes == 1);
  CHECK(r.missing_referer == 9);
  CHECK(r.truncated_user_agent == 1);
  CHECK_FALSE(r.latency.has_value());
}

TEST_CASE("combined fixture: every signature class is found, and the attacker blacklisted") {
  auto r = report_of("combined_mixed.log");
  auto* probe = finding(r, signature_class::probe);
  REQUIRE(probe);
  CHECK(probe->hits == 3);     // /.env, /etc/passwd, /wp-login.php
  CHECK(probe->clients == 2);  // 10.0.0.3 and 10.0.0.7
  REQUIRE(finding(r, signature_class::traversal));
  CHECK(finding(r, signature_class::traversal)->hits == 1);
  REQUIRE(finding(r, signature_class::sqli));
  CHECK(finding(r, signature_class::sqli)->hits == 1);
  REQUIRE(finding(r, signature_class::xss));
  CHECK(finding(r, signature_class::xss)->hits == 1);
  auto* scanner = finding(r, signature_class::scanner);
  REQUIRE(scanner);
  CHECK(scanner->hits == 4);
  CHECK(scanner->top_clients.at(0).value == "10.0.0.3");
  // 10.0.0.3: 5 attack hits and scanner agents; 10.0.0.7 has one probe only.
  REQUIRE(r.blacklist.size() == 1);
  CHECK(r.blacklist[0].client == "10.0.0.3");
  CHECK(r.blacklist[0].reasons == std::vector<std::string>{"attacks", "scanner_ua"});
  CHECK(r.blacklist[0].expires_ms - r.blacklist[0].last_ms == 86400 * 1000);
}

TEST_CASE("bursts per client and minute cross their thresholds exactly") {
  test::temp_dir dir;
  std::string log;
  // 20 404s in one minute from .9 (a burst), 19 from .8 (not), 10 failed logins from .7.
  for (int i = 0; i < 20; ++i)
    log += "10.9.9.9 - - [10/Oct/2023:10:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i)
           + " +0000] \"GET /nope" + std::to_string(i) + " HTTP/1.1\" 404 1 \"-\" \"ua\"\n";
  for (int i = 0; i < 19; ++i)
    log += "10.8.8.8 - - [10/Oct/2023:10:00:30 +0000] \"GET /x HTTP/1.1\" 404 1 \"-\" \"ua\"\n";
  for (int i = 0; i < 10; ++i)
    log += "10.7.7.7 - - [10/Oct/2023:10:01:00 +0000] \"POST /login HTTP/1.1\" 401 1 \"-\" \"ua\"\n";
  test::write_file(dir / "bursts.log", log);
  auto out = test::analyze({dir / "bursts.log"}, 2, log_format::combined, 4096);
  auto r = build_report(*out.aggregate, report_options{});
  REQUIRE(r.bursts.size() == 2);
  CHECK(r.bursts[0].kind == "404_burst");
  CHECK(r.bursts[0].client == "10.9.9.9");
  CHECK(r.bursts[0].peak == 20);
  CHECK(r.bursts[1].kind == "brute_force");
  CHECK(r.bursts[1].client == "10.7.7.7");
  CHECK(r.bursts[1].peak == 10);
}

TEST_CASE("common format: the NASA slice matches an independent awk count") {
  auto r = report_of("nasa_common_100.log");
  CHECK(r.total_requests == 100);
  CHECK(r.valid_requests == 100);
  CHECK(status(r, 200) == 83);
  CHECK(status(r, 304) == 16);
  CHECK(status(r, 302) == 1);
  CHECK(r.bandwidth == 813978);
  CHECK(r.unique_hosts == 19);
  // Zone -0400: the first line is 00:00:01 local, 04:00:01 UTC.
  CHECK(format_rfc3339_utc(*r.first_ms) == "1995-08-01T04:00:01Z");
}

TEST_CASE("combined_rt: exact nearest-rank latency percentiles and slow paths") {
  auto r = report_of("combined_rt.log");
  REQUIRE(r.latency.has_value());
  CHECK(r.latency->count == 5);
  CHECK(r.latency->p50 == 30000);    // 3rd of 10, 20, 30, 40, 1000 ms
  CHECK(r.latency->p90 == 1000000);
  CHECK(r.latency->p99 == 1000000);
  CHECK(r.latency->max == 1000000);
  CHECK(r.latency->mean == 220000);
  REQUIRE(r.slow_paths.size() == 3);
  CHECK(r.slow_paths[0].path == "/slow");
  CHECK(r.slow_paths[1].path == "/b");
  CHECK(r.slow_paths[1].mean_us == 35000);
  CHECK(r.error_rate == Approx(0.2));
}

TEST_CASE("json lines: default names, escapes and bad lines by reason") {
  auto r = report_of("events.jsonl");
  CHECK(r.valid_requests == 3);
  CHECK(r.failed_requests == 3);
  CHECK(r.malformed[static_cast<size_t>(parse_error::missing_field)] == 1);
  CHECK(r.malformed[static_cast<size_t>(parse_error::bad_json)] == 1);
  CHECK(r.malformed[static_cast<size_t>(parse_error::bad_timestamp)] == 1);
  CHECK(r.bandwidth == 15);
  CHECK(status(r, 401) == 1);
  CHECK(r.missing_bytes == 1);
  REQUIRE(r.latency);
  CHECK(r.latency->p50 == 500000);
  // All three requests are at 10:00 UTC (one written as 12:00+02:00, one as epoch).
  CHECK(format_rfc3339_utc(*r.first_ms) == "2024-03-01T10:00:00Z");
  CHECK(format_rfc3339_utc(*r.last_ms) == "2024-03-01T10:00:00Z");
  bool found_quoted = false;
  for (const auto& a : r.top_user_agents) found_quoted |= a.value == "ua \"quoted\"";
  CHECK(found_quoted);
}
