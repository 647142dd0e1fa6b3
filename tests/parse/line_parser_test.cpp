#include <catch2/catch.hpp>

#include "parse/line_parser.hpp"
#include "parse/log_format.hpp"
#include "support/test_support.hpp"

using namespace vigil;

TEST_CASE("every line is either an event or a failure with its line index") {
  parser_options opts;
  opts.max_line_bytes = 300;
  line_parser parser{opts};
  event_batch batch;
  const std::string good = R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "ua")L";
  batch.text = good + "\r\n" + "\n" + "garbage\n" + std::string(400, 'x') + "\n" + "1.2.3.4 \xff\xfe bad utf8\n" + good + "\n";
  std::vector<line_failure> failures;
  auto counts = parser.parse(log_format::combined, batch.text.size(), batch, failures);
  CHECK(counts.lines == 5);
  CHECK(counts.empty_lines == 1);
  REQUIRE(batch.events.size() == 2);
  CHECK(batch.events[0].line == 0);
  CHECK(batch.events[1].line == 5);
  CHECK(batch.view(batch.events[0].raw) == good);  // the \r is not part of the line
  REQUIRE(failures.size() == 3);
  CHECK(failures[0].line == 2);
  CHECK(failures[0].reason == parse_error::truncated);
  CHECK(failures[1].reason == parse_error::too_long);
  CHECK(failures[1].text.length == 300);
  CHECK(failures[2].reason == parse_error::not_utf8);
}

TEST_CASE("formats are sniffed from the first lines") {
  using test::fixture;
  using test::read_file;
  CHECK(sniff_log_format(read_file(fixture("apache_combined_2000.log"))) == log_format::combined);
  CHECK(sniff_log_format(read_file(fixture("nasa_common_100.log"))) == log_format::common);
  CHECK(sniff_log_format(read_file(fixture("combined_rt.log"))) == log_format::combined_rt);
  CHECK(sniff_log_format(read_file(fixture("events.jsonl"))) == log_format::json);
  CHECK(log_format_from_string("combined_rt") == log_format::combined_rt);
  CHECK_FALSE(log_format_from_string("xml").has_value());
}
