#include <catch2/catch.hpp>

#include "parse/json_parser.hpp"
#include "parse/timestamp.hpp"

using namespace vigil;

namespace {

struct json_fixture {
  json_line_parser parser{json_fields::defaults(), time_unit::auto_detect};
  event_batch batch;

  parse_error parse(const std::string& line, log_event& ev) {
    batch.text = line;
    return parser.parse(std::string_view(batch.text), 0, batch, ev);
  }
};

} // namespace

TEST_CASE_METHOD(json_fixture, "JSON lines map default field names onto the event") {
  log_event ev;
  REQUIRE(parse(R"L({"ip":"10.1.1.1","time":"2024-03-01T10:00:00Z","method":"GET","path":"/x?y=1","status":200,"bytes":10,"user_agent":"ua","request_time":0.5})L", ev)
          == parse_error::none);
  CHECK(batch.view(ev.client) == "10.1.1.1");
  CHECK(batch.view(ev.method) == "GET");
  CHECK(batch.view(ev.target) == "/x?y=1");
  CHECK(batch.path(ev) == "/x");
  CHECK(ev.status == 200);
  CHECK(ev.bytes == 10);
  CHECK(ev.request_time_us == 500000);
  CHECK(format_rfc3339_utc(ev.time_ms) == "2024-03-01T10:00:00Z");
}

TEST_CASE_METHOD(json_fixture, "escaped JSON strings are unescaped into the batch") {
  log_event ev;
  REQUIRE(parse(R"L({"ip":"10.1.1.1","time":"2024-03-01T10:00:00Z","path":"/a","status":200,"user_agent":"ua \"quoted\" \u00e9"})L", ev)
          == parse_error::none);
  CHECK(batch.view(ev.user_agent) == "ua \"quoted\" \xC3\xA9");
}

TEST_CASE_METHOD(json_fixture, "a request line, string status and epoch time are understood") {
  log_event ev;
  REQUIRE(parse(R"L({"remote_addr":"10.1.1.2","ts":1709287200,"request":"POST /login HTTP/1.1","status":"401","body_bytes_sent":"-"})L", ev)
          == parse_error::none);
  CHECK(batch.view(ev.method) == "POST");
  CHECK(batch.view(ev.target) == "/login");
  CHECK(batch.view(ev.protocol) == "HTTP/1.1");
  CHECK(ev.status == 401);
  CHECK(ev.has(event_flags::bytes_missing));
  CHECK(format_rfc3339_utc(ev.time_ms) == "2024-03-01T10:00:00Z");
}

TEST_CASE_METHOD(json_fixture, "bad JSON lines are rejected with their reason") {
  log_event ev;
  CHECK(parse("not json", ev) == parse_error::bad_json);
  CHECK(parse("[1,2]", ev) == parse_error::bad_json);
  CHECK(parse(R"L({"ip":"a","time":"2024-03-01T10:00:00Z","path":"/"})L", ev) == parse_error::missing_field);
  CHECK(parse(R"L({"ip":"a","time":"yesterday","path":"/","status":200})L", ev) == parse_error::bad_timestamp);
  CHECK(parse(R"L({"ip":"a","time":"2024-03-01T10:00:00Z","path":"/","status":99})L", ev) == parse_error::bad_status);
}

TEST_CASE("custom field names replace the defaults for their role") {
  json_fields f = json_fields::defaults();
  REQUIRE(f.set("client", "peer"));
  REQUIRE_FALSE(f.set("nonsense", "x"));
  json_line_parser parser{f, time_unit::auto_detect};
  event_batch batch;
  batch.text = R"L({"peer":"9.9.9.9","time":"2024-03-01T10:00:00Z","path":"/","status":200})L";
  log_event ev;
  REQUIRE(parser.parse(batch.text, 0, batch, ev) == parse_error::none);
  CHECK(batch.view(ev.client) == "9.9.9.9");
}
