#include <catch2/catch.hpp>

#include "parse/timestamp.hpp"

using namespace vigil;

TEST_CASE("CLF timestamps are converted to UTC using their zone offset") {
  log_time t;
  REQUIRE(parse_clf_time("10/Oct/2000:13:55:36 -0700", t));
  CHECK(format_rfc3339_utc(t.utc_ms) == "2000-10-10T20:55:36Z");
  CHECK(t.offset_s == -7 * 3600);
  REQUIRE(parse_clf_time("01/Aug/1995:00:00:01 -0400", t));
  CHECK(format_rfc3339_utc(t.utc_ms) == "1995-08-01T04:00:01Z");
  REQUIRE(parse_clf_time("31/Dec/2023:23:30:00 +0530", t));
  CHECK(format_rfc3339_utc(t.utc_ms) == "2023-12-31T18:00:00Z");
}

TEST_CASE("malformed CLF timestamps are rejected") {
  log_time t;
  CHECK_FALSE(parse_clf_time("99/Oct/2000:13:55:36 -0700", t));
  CHECK_FALSE(parse_clf_time("10/Foo/2000:13:55:36 -0700", t));
  CHECK_FALSE(parse_clf_time("29/Feb/2023:13:55:36 +0000", t));
  CHECK(parse_clf_time("29/Feb/2024:13:55:36 +0000", t));
  CHECK_FALSE(parse_clf_time("10/Oct/2000:25:55:36 -0700", t));
  CHECK_FALSE(parse_clf_time("10/Oct/2000:13:55:36", t));
  CHECK_FALSE(parse_clf_time("", t));
}

TEST_CASE("RFC 3339 timestamps accept Z, offsets with and without colon, and fractions") {
  log_time t;
  REQUIRE(parse_rfc3339_time("2015-05-17T10:05:03Z", t));
  CHECK(format_rfc3339_utc(t.utc_ms) == "2015-05-17T10:05:03Z");
  REQUIRE(parse_rfc3339_time("2015-05-17T12:05:03.250+02:00", t));
  CHECK(format_rfc3339_utc(t.utc_ms) == "2015-05-17T10:05:03.250Z");
  REQUIRE(parse_rfc3339_time("2015-05-17 03:05:03.123456-0700", t));
  CHECK(format_rfc3339_utc(t.utc_ms) == "2015-05-17T10:05:03.123Z");
  CHECK_FALSE(parse_rfc3339_time("2015-05-17T10:05:03", t));
  CHECK_FALSE(parse_rfc3339_time("2015-13-17T10:05:03Z", t));
  CHECK_FALSE(parse_rfc3339_time("2015-05-17T10:05:03Zjunk", t));
}

TEST_CASE("the local day follows the zone the line was written in") {
  log_time t;
  REQUIRE(parse_clf_time("10/Oct/2023:01:00:00 +0200", t));  // 9 Oct 23:00 UTC
  CHECK(local_day(t) == days_from_civil(2023, 10, 10));
  CHECK(t.utc_ms / 1000 / 86400 == days_from_civil(2023, 10, 9));
}

TEST_CASE("the timestamp cache returns the same value as a fresh parse") {
  clf_time_cache cache;
  log_time a, b, c;
  REQUIRE(cache.parse("10/Oct/2000:13:55:36 -0700", a));
  REQUIRE(cache.parse("10/Oct/2000:13:55:36 -0700", b));
  REQUIRE(parse_clf_time("10/Oct/2000:13:55:36 -0700", c));
  CHECK(a.utc_ms == c.utc_ms);
  CHECK(b.utc_ms == c.utc_ms);
  CHECK_FALSE(cache.parse("10/Oct/2000:13:55:3x -0700", a));
}

TEST_CASE("RFC 3339 output: milliseconds, before 1970, and years past four digits") {
  CHECK(format_rfc3339_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339_utc(1) == "1970-01-01T00:00:00.001Z");
  CHECK(format_rfc3339_utc(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_utc(951782400000) == "2000-02-29T00:00:00Z");
  CHECK(format_rfc3339_utc(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_utc(253402300800000) == "10000-01-01T00:00:00Z");
  std::string out = "t=";
  append_rfc3339_utc(out, 1709508600010);
  CHECK(out == "t=2024-03-03T23:30:00.010Z");
}
