#include <catch2/catch.hpp>

#include "rules/rule_expression.hpp"

using namespace vigil;

TEST_CASE("a rule expression holds exactly when its condition does") {
  std::string error;
  auto e = rule_expression::compile("error_rate > 0.05 && requests >= 100", error);
  REQUIRE(e);
  *e->metric("error_rate") = 0.06;
  *e->metric("requests") = 99;
  CHECK_FALSE(e->holds());
  *e->metric("requests") = 100;
  CHECK(e->holds());
  *e->metric("error_rate") = 0.05;
  CHECK_FALSE(e->holds());

  auto scanner = rule_expression::compile("status_404 >= 20 || probes >= 5", error);
  REQUIRE(scanner);
  *scanner->metric("probes") = 5;
  CHECK(scanner->holds());
  CHECK(scanner->metric("no_such_metric") == nullptr);
}

TEST_CASE("unknown metrics and syntax errors are refused at compile time") {
  std::string error;
  CHECK_FALSE(rule_expression::compile("errors > 1", error));
  CHECK(error.find("unknown metric 'errors' at position 1") == 0);
  CHECK_FALSE(rule_expression::compile("requests >", error));
  CHECK_FALSE(error.empty());
  CHECK_FALSE(rule_expression::compile("", error));
}
