// Runs the real GoAccess 1.7 (installed by deploy/install-deps.sh) on the
// shared real log and compares its counts with vigil's.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

TEST_CASE("vigil's counts equal GoAccess's on the real combined log") {
  const std::string log = test::fixture("apache_combined_elastic_examples.log");
  REQUIRE(std::filesystem::exists(log));
  REQUIRE(test::run_command("command -v goaccess >/dev/null").exit_code == 0);
  test::temp_dir dir;
  // GoAccess leaves 4xx requests out of unique visitors unless told; PRODUCT.md
  // counts every request, so compare like with like (README explains).
  auto ga = test::run_command("goaccess '" + log + "' --log-format=COMBINED --4xx-to-unique-count -o '"
                              + (dir / "ga.json") + "' >/dev/null 2>&1");
  REQUIRE(ga.exit_code == 0);
  auto vg = test::run_command(std::string(VIGIL_BINARY) + " analyze '" + log + "' --json '"
                              + (dir / "v.json") + "' >/dev/null");
  REQUIRE(vg.exit_code == 0);
  json g = json::parse(test::read_file(dir / "ga.json"));
  json v = json::parse(test::read_file(dir / "v.json"));

  CHECK(v["summary"]["total_requests"] == g["general"]["total_requests"]);
  CHECK(v["summary"]["valid_requests"] == g["general"]["valid_requests"]);
  CHECK(v["summary"]["failed_requests"] == g["general"]["failed_requests"]);
  CHECK(v["summary"]["unique_visitors"] == g["general"]["unique_visitors"]);
  CHECK(v["summary"]["bandwidth"] == g["general"]["bandwidth"]);
  CHECK(v["summary"]["unique_not_found"] == g["general"]["unique_not_found"]);
  // GoAccess groups status codes by class; compare every code it lists.
  size_t codes = 0;
  for (const auto& cls : g["status_codes"]["data"])
    for (const auto& item : cls["items"]) {
      std::string code = item["data"].get<std::string>().substr(0, 3);
      INFO("status " << code);
      CHECK(v["status_codes"][code] == item["hits"]["count"]);
      ++codes;
    }
  CHECK(codes == v["status_codes"].size());
}

TEST_CASE("without --4xx-to-unique-count GoAccess reports fewer visitors, by the 4xx-only ones") {
  const std::string log = test::fixture("apache_combined_elastic_examples.log");
  test::temp_dir dir;
  REQUIRE(test::run_command("goaccess '" + log + "' --log-format=COMBINED -o '" + (dir / "ga.json")
                            + "' >/dev/null 2>&1").exit_code == 0);
  json g = json::parse(test::read_file(dir / "ga.json"));
  CHECK(g["general"]["unique_visitors"] == 2095);
  auto out = test::analyze({log}, 2);
  auto r = build_report(*out.aggregate, report_options{});
  CHECK(r.unique_visitors == 2144);
}
