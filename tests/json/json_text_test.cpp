#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "json/json_text.hpp"

using namespace vigil;

namespace {

std::string library_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ours(double v) {
  std::string out;
  append_json_number(out, v);
  return out;
}

} // namespace

TEST_CASE("JSON strings are written as nlohmann-json writes them") {
  for (std::string s : {std::string("10.0.0.1"), std::string(""), std::string("a \"quoted\" \\ path"),
                        std::string("tab\there\nnewline\x01"), std::string("caf\xc3\xa9 \xe2\x82\xac"),
                        std::string("bad \xff\xfe utf-8 \xc3"), std::string("nul\0inside", 10),
                        std::string("del\x7f")}) {
    std::string out;
    append_json_string(out, s);
    CHECK(out == library_string(s));
    // And it reads back (invalid UTF-8 as U+FFFD).
    CHECK_NOTHROW(nlohmann::json::parse(out));
  }
}

TEST_CASE("JSON numbers: integers as integers, others as nlohmann-json prints them") {
  CHECK(ours(0) == "0");
  CHECK(ours(42) == "42");
  CHECK(ours(-7) == "-7");
  CHECK(ours(1e15) == "1000000000000000");
  CHECK(ours(0.25) == "0.25");
  CHECK(ours(std::nan("")) == "null");
  CHECK(ours(INFINITY) == "null");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(1.0, 10.0);
  std::uniform_int_distribution<int> exponent(-12, 20);
  for (int i = 0; i < 20000; ++i) {
    const double v = mantissa(rng) * std::pow(10.0, exponent(rng)) * (i % 2 ? 1 : -1);
    if (v == std::floor(v) && std::abs(v) < 9e15) continue;  // integers: above
    INFO(v);
    REQUIRE(ours(v) == nlohmann::json(v).dump());
    REQUIRE(nlohmann::json::parse(ours(v)).get<double>() == v);
  }
  // Ratios like the rates in window results.
  for (int n = 1; n < 300; ++n)
    for (int k = 1; k < n; k += 7) REQUIRE(ours(double(k) / n) == nlohmann::json(double(k) / n).dump());
}
