#include <catch2/catch.hpp>

#include <map>

#include "expr/expression.hpp"

using namespace vigil;
using expr::value;

namespace {

// Variables by name, for the compiler and the evaluator alike.
struct vars : expr::scope {
  std::vector<std::string> names;
  std::vector<value> values;
  void set(const std::string& n, value v) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == n) {
        values[i] = v;
        return;
      }
    names.push_back(n);
    values.push_back(v);
  }
  value get(int slot) const override { return values[static_cast<size_t>(slot)]; }
  expr::names resolver(absl::TimeZone zone = absl::UTCTimeZone()) const {
    expr::names n;
    n.variable = [this](std::string_view name) -> std::optional<int> {
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return static_cast<int>(i);
      return std::nullopt;
    };
    n.known = "fields: price, quantity, ...";
    n.zone = zone;
    return n;
  }
};

value eval(const std::string& text, const vars& v, absl::TimeZone zone = absl::UTCTimeZone()) {
  std::string error;
  auto p = expr::program::compile(text, v.resolver(zone), error);
  INFO(text << ": " << error);
  REQUIRE(p);
  static expr::arena scratch;
  scratch.reset();
  return p->eval(v, scratch);
}

std::string compile_error(const std::string& text, const vars& v) {
  std::string error;
  auto p = expr::program::compile(text, v.resolver(), error);
  CHECK_FALSE(p);
  return error;
}

} // namespace

TEST_CASE("expressions: arithmetic, comparisons and the ternary over record fields") {
  vars v;
  v.set("price", value::number(12.5));
  v.set("quantity", value::number(3));
  v.set("discount", value::number(0.1));
  v.set("event_type", value::string("purchase"));
  CHECK(eval("price * quantity * (1 - discount)", v).num == Approx(33.75));
  CHECK(eval("price * quantity >= 100 ? \"big\" : \"small\"", v).text == "small");
  CHECK(eval("quantity % 2", v).num == 1);
  CHECK(eval("-price + 2 * 3", v).num == Approx(-6.5));
  CHECK(eval("event_type == \"purchase\" && quantity > 2", v).truthy());
  CHECK_FALSE(eval("event_type != \"purchase\" || !(quantity > 2)", v).truthy());
  CHECK(eval("1 + 2 * 3 - 4 / 2", v).num == 5);
  CHECK(eval("true ? 1 : 2", v).num == 1);
  CHECK(eval("'single' + \" quoted\"", v).text == "single quoted");
}

TEST_CASE("expressions: null stays null through arithmetic and compares only equal to null") {
  vars v;
  v.set("price", value::null());
  v.set("n", value::number(2));
  CHECK(eval("price * 2", v).is_null());
  CHECK(eval("n / 0", v).is_null());  // no infinities in records or metrics
  CHECK_FALSE(eval("price > 1", v).truthy());
  CHECK_FALSE(eval("price < 1", v).truthy());
  CHECK(eval("price == null", v).truthy());
  CHECK_FALSE(eval("n == null", v).truthy());
  CHECK(eval("coalesce(price, n, 7)", v).num == 2);
}

TEST_CASE("expressions: string functions") {
  vars v;
  v.set("country", value::string("  De "));
  v.set("id", value::number(7));
  CHECK(eval("lower(trim(country))", v).text == "de");
  CHECK(eval("upper(country)", v).text == "  DE ");
  CHECK(eval("concat(\"order-\", id, \"/\", trim(country))", v).text == "order-7/De");
  CHECK(eval("substr(\"abcdef\", 2, 3)", v).text == "cde");
  CHECK(eval("substr(\"abcdef\", 4)", v).text == "ef");
  CHECK(eval("substr(\"abc\", 10)", v).text.empty());
  CHECK(eval("len(trim(country))", v).num == 2);
  CHECK(eval("number(\" 12.50 \") * 2", v).num == 25);
  CHECK(eval("number(\"12x\")", v).is_null());
  CHECK(eval("string(1.5)", v).text == "1.5");
  CHECK(eval("round(2.345, 2)", v).num == Approx(2.35));
  CHECK(eval("min(3, 1, 2) + max(3, 1, 2)", v).num == 4);
  CHECK(eval("\"10\" > 9", v).truthy());  // a numeric string compares as a number
}

TEST_CASE("expressions: time dimensions in a configured zone") {
  vars v;
  // 2024-03-03T23:30:00Z, a Sunday.
  v.set("ts", value::time(1709508600000.0));
  CHECK(eval("hour(ts)", v).num == 23);
  CHECK(eval("weekday(ts)", v).num == 7);
  CHECK(eval("date(ts)", v).text == "2024-03-03");
  CHECK(eval("day(ts)", v).num == 3);
  CHECK(eval("month(ts)", v).num == 3);
  CHECK(eval("year(ts)", v).num == 2024);
  // At +02:00 it is already Monday the 4th, 01:30.
  const absl::TimeZone plus2 = *expr::parse_time_zone("+02:00");
  CHECK(eval("hour(ts)", v, plus2).num == 1);
  CHECK(eval("weekday(ts)", v, plus2).num == 1);
  CHECK(eval("date(ts)", v, plus2).text == "2024-03-04");
  const absl::TimeZone minus530 = *expr::parse_time_zone("-0530");
  CHECK(eval("hour(ts)", v, minus530).num == 18);  // 23:30 UTC - 5:30
  CHECK(expr::parse_time_zone("UTC"));
  CHECK_FALSE(expr::parse_time_zone("+25:00"));
  CHECK_FALSE(expr::parse_time_zone("Mars/Olympus_Mons"));
  // A named zone follows its daylight saving time (tzdata): Berlin is +01:00
  // in winter, +02:00 from the last Sunday of March.
  const auto berlin = expr::parse_time_zone("Europe/Berlin");
  REQUIRE(berlin);
  CHECK(eval("hour(ts)", v, *berlin).num == 0);                      // 2024-03-03 23:30Z: 00:30 CET on the 4th
  CHECK(eval("date(ts)", v, *berlin).text == "2024-03-04");
  v.set("summer", value::time(1719790200000.0));                      // 2024-06-30T23:30:00Z
  CHECK(eval("hour(summer)", v, *berlin).num == 1);                   // 01:30 CEST on July 1st
  CHECK(eval("month(summer)", v, *berlin).num == 7);
  v.set("before", value::time(1711846799000.0));                      // 2024-03-31T00:59:59Z: 01:59:59 CET
  v.set("after", value::time(1711846800000.0));                       // 2024-03-31T01:00:00Z: 03:00:00 CEST
  CHECK(eval("hour(before)", v, *berlin).num == 1);
  CHECK(eval("hour(after)", v, *berlin).num == 3);
  // Before 1970 too.
  v.set("old", value::time(-1000.0));  // 1969-12-31T23:59:59Z, a Wednesday
  CHECK(eval("date(old)", v).text == "1969-12-31");
  CHECK(eval("hour(old)", v).num == 23);
  CHECK(eval("weekday(old)", v).num == 3);
}

TEST_CASE("expressions: errors say what and where") {
  vars v;
  v.set("price", value::number(1));
  CHECK(compile_error("price * qty", v) == "unknown field 'qty' at position 9 (fields: price, quantity, ...)");
  CHECK(compile_error("price = 3", v).find("'=' is not a comparison: write '=='") == 0);
  CHECK(compile_error("lower(price", v).find("expected ',' or ')'") == 0);
  CHECK(compile_error("frobnicate(price)", v).find("unknown function 'frobnicate'") == 0);
  CHECK(compile_error("substr(price)", v).find("substr() takes 2 to 3 arguments") == 0);
  CHECK(compile_error("\"open", v).find("string not closed at position 1") == 0);
  CHECK(compile_error("price >", v).find("expression ends too early") == 0);
  CHECK(compile_error("", v).find("expression ends too early") == 0);
  CHECK(compile_error("price 2", v).find("unexpected '2' at position 7") == 0);
}

TEST_CASE("expressions: a taken call is a slot of the caller's, and its arguments are programs of their own") {
  vars v;
  v.set("total", value::number(5));
  std::vector<std::vector<int>> taken;
  expr::names n = v.resolver();
  n.call = [&](std::string_view name, const std::vector<int>& args, std::string&) -> std::optional<int> {
    if (name != "sum") return std::nullopt;
    taken.push_back(args);
    return static_cast<int>(taken.size() - 1);
  };
  std::string error;
  auto p = expr::program::compile("sum(total * 2) / sum(total)", n, error);
  REQUIRE(p);
  REQUIRE(taken.size() == 2);
  CHECK(p->free_variables().empty());
  auto arg = p->sub(taken[0][0]);
  CHECK(arg.source() == "total * 2");
  expr::arena scratch;
  CHECK(arg.eval(v, scratch).num == 10);
  auto bare = expr::program::compile("total + sum(total)", n, error);
  REQUIRE(bare);
  CHECK(bare->free_variables() == std::vector<std::string>{"total"});
}
