#include <catch2/catch.hpp>

#include "parse/clf_parser.hpp"
#include "parse/timestamp.hpp"

using namespace vigil;

namespace {

struct parsed {
  parse_error err;
  log_event ev;
  std::string line;
  std::string_view view(text_ref r) const { return std::string_view(line).substr(r.offset, r.length); }
};

parsed parse(std::string line, clf_options opts = {}) {
  parsed p;
  p.line = std::move(line);
  clf_time_cache cache;
  p.err = parse_clf_line(p.line, 0, opts, cache, p.ev);
  return p;
}

} // namespace

TEST_CASE("a combined line yields every field as a view into the line") {
  auto p = parse(R"L(83.149.9.216 - frank [17/May/2015:10:05:03 +0000] "GET /presentations/a.png?x=1 HTTP/1.1" 200 203023 "http://semicomplete.com/" "Mozilla/5.0 (Macintosh)")L");
  REQUIRE(p.err == parse_error::none);
  CHECK(p.view(p.ev.client) == "83.149.9.216");
  CHECK(p.view(p.ev.user) == "frank");
  CHECK(p.view(p.ev.method) == "GET");
  CHECK(p.view(p.ev.target) == "/presentations/a.png?x=1");
  CHECK(p.ev.path_length == std::string_view("/presentations/a.png").size());
  CHECK(p.view(p.ev.protocol) == "HTTP/1.1");
  CHECK(p.ev.status == 200);
  CHECK(p.ev.bytes == 203023);
  CHECK(p.view(p.ev.referer) == "http://semicomplete.com/");
  CHECK(p.view(p.ev.user_agent) == "Mozilla/5.0 (Macintosh)");
  CHECK(format_rfc3339_utc(p.ev.time_ms) == "2015-05-17T10:05:03Z");
  CHECK(p.ev.flags == 0);
}

TEST_CASE("a common line has no referer or agent and counts them missing only in combined mode") {
  const std::string line = R"L(in24.inetnebr.com - - [01/Aug/1995:00:00:01 -0400] "GET /shuttle/missions/sts-68/news/sts-68-mcc-05.txt HTTP/1.0" 200 1839)L";
  clf_options common;
  common.expect_agent = false;
  auto p = parse(line, common);
  REQUIRE(p.err == parse_error::none);
  CHECK(p.view(p.ev.client) == "in24.inetnebr.com");
  CHECK(p.ev.flags == 0);
  auto q = parse(line);
  REQUIRE(q.err == parse_error::none);
  CHECK(q.ev.has(event_flags::referer_missing));
  CHECK(q.ev.has(event_flags::agent_missing));
}

TEST_CASE("a line cut short inside the user agent is valid, the agent running to the end") {
  auto p = parse(R"L(46.118.127.106 - - [20/May/2015:12:05:17 +0000] "GET /x.py HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)L");
  REQUIRE(p.err == parse_error::none);
  CHECK(p.ev.has(event_flags::agent_truncated));
  CHECK(p.view(p.ev.user_agent) == "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html");
  CHECK(p.ev.has(event_flags::referer_missing));
}

TEST_CASE("escaped quotes inside the request do not end it") {
  auto p = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a\"b HTTP/1.1" 404 0 "-" "ua")L");
  REQUIRE(p.err == parse_error::none);
  CHECK(p.view(p.ev.target) == R"L(/a\"b)L");
  CHECK(p.ev.status == 404);
}

TEST_CASE("a trailing request time is read in seconds or microseconds") {
  auto s = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" 0.123)L");
  REQUIRE(s.err == parse_error::none);
  REQUIRE(s.ev.has(event_flags::has_request_time));
  CHECK(s.ev.request_time_us == 123000);
  auto us = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" 4567)L");
  REQUIRE(us.ev.has(event_flags::has_request_time));
  CHECK(us.ev.request_time_us == 4567);
  clf_options secs;
  secs.request_time_unit = time_unit::seconds;
  auto forced = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" 2)L", secs);
  CHECK(forced.ev.request_time_us == 2000000);
  clf_options common;
  common.expect_agent = false;
  auto c = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 0.250)L", common);
  REQUIRE(c.err == parse_error::none);
  CHECK(c.ev.request_time_us == 250000);
}

TEST_CASE("a request of \"-\" is kept with the request counted missing") {
  auto p = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "-" 408 0 "-" "-")L");
  REQUIRE(p.err == parse_error::none);
  CHECK(p.ev.has(event_flags::request_missing));
  CHECK(p.ev.has(event_flags::agent_missing));
  CHECK(p.ev.status == 408);
}

TEST_CASE("a request field that is not METHOD target is kept whole as the target of a malformed request") {
  // What a server logs for binary sent to its HTTP port, or a bare word:
  // the log line is fine, the request is not (the bad_request class).
  for (const char* request : {"\\x16\\x03\\x01", "HELP", "batman", "GET"}) {
    INFO(request);
    auto p = parse(std::string("1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"") + request + "\" 400 5");
    REQUIRE(p.err == parse_error::none);
    CHECK(p.ev.has(event_flags::request_malformed));
    CHECK(p.view(p.ev.target) == request);
    CHECK(p.view(p.ev.method).empty());
    CHECK(p.ev.status == 400);
  }
  auto fine = parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5)L");
  CHECK_FALSE(fine.ev.has(event_flags::request_malformed));
}

TEST_CASE("malformed lines are rejected with the reason that explains them") {
  CHECK(parse("bad line garbage").err == parse_error::truncated);
  CHECK(parse(" - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5").err == parse_error::bad_host);
  CHECK(parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 2x0 5)L").err == parse_error::bad_status);
  CHECK(parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 700 5)L").err == parse_error::bad_status);
  CHECK(parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 abc)L").err == parse_error::bad_bytes);
  CHECK(parse(R"L(1.2.3.4 - - [99/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5)L").err == parse_error::bad_timestamp);
  CHECK(parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1)L").err == parse_error::truncated);
  CHECK(parse(R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "http://cut)L").err == parse_error::truncated);
}
