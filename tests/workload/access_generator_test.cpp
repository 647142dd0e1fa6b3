#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "parse/line_parser.hpp"
#include "report/analysis_report.hpp"
#include "support/test_support.hpp"
#include "workload/access_generator.hpp"

using namespace vigil;

namespace {

access_workload_options ten_minutes(uint64_t seed) {
  access_workload_options o;
  o.seed = seed;
  o.rate = 100;
  o.duration = duration_ms{600000};
  o.request_time = true;
  o.incidents = {incident_kind::scan, incident_kind::bruteforce, incident_kind::error_spike,
                 incident_kind::latency};
  return o;
}

std::string generate_all(access_workload_options o) {
  access_generator g(o);
  std::string out;
  g.generate_until(INT64_MAX, out);
  REQUIRE(g.done());
  return out;
}

const incident_plan& plan_of(const access_generator& g, incident_kind k) {
  for (const auto& p : g.incidents())
    if (p.kind == k) return p;
  throw std::logic_error("no such incident");
}

} // namespace

TEST_CASE("the same seed gives the same bytes, another seed other bytes") {
  const std::string a = generate_all(ten_minutes(7));
  CHECK(a == generate_all(ten_minutes(7)));
  CHECK(a != generate_all(ten_minutes(8)));
  // Generating in small steps gives the same as generating at once.
  access_generator g(ten_minutes(7));
  std::string stepped;
  for (int64_t t = g.end_ms() - 600000; !g.done(); t += 250) g.generate_until(t, stepped);
  CHECK(stepped == a);
}

TEST_CASE("every generated line parses, in time order, and incidents sit in their slots") {
  access_generator g(ten_minutes(3));
  event_batch batch;
  g.generate_until(INT64_MAX, batch.text);
  parser_options po;
  line_parser parser{po};
  std::vector<line_failure> failures;
  parser.parse(log_format::combined_rt, batch.text.size(), batch, failures);
  CHECK(failures.empty());
  REQUIRE(batch.events.size() == g.lines());
  // 100 lines/s for 600 s, plus 120 scan and 60 brute-force lines.
  CHECK(g.lines() == 60000 + 120 + 60);

  const auto& scan = plan_of(g, incident_kind::scan);
  const auto& brute = plan_of(g, incident_kind::bruteforce);
  const auto& spike = plan_of(g, incident_kind::error_spike);
  const auto& slow = plan_of(g, incident_kind::latency);
  int64_t last = INT64_MIN;
  uint64_t scan_lines = 0, errors_inside = 0, errors_outside = 0;
  uint64_t search_inside = 0, search_slow_inside = 0, search_slow_outside = 0;
  for (const auto& e : batch.events) {
    CHECK(e.time_ms >= last / 1000 * 1000);  // CLF keeps seconds: ordered per second
    last = e.time_ms;
    if (batch.view(e.client) == scan.client) {
      ++scan_lines;
      CHECK(e.time_ms >= scan.start_ms / 1000 * 1000);
      CHECK(e.time_ms < scan.end_ms);
      CHECK(e.status == 404);
    }
    if (batch.view(e.client) == brute.client) CHECK(e.status == 401);
    if (e.status >= 500) {
      bool inside = e.time_ms >= spike.start_ms / 1000 * 1000 && e.time_ms < spike.end_ms;
      (inside ? errors_inside : errors_outside) += 1;
    }
    if (batch.path(e) == "/api/search") {
      bool inside = e.time_ms >= slow.start_ms / 1000 * 1000 && e.time_ms < slow.end_ms;
      search_inside += inside;
      if (e.request_time_us > 150000) (inside ? search_slow_inside : search_slow_outside) += 1;
    }
  }
  CHECK(scan_lines == 120);
  CHECK(errors_outside == 0);
  CHECK(errors_inside > 6000 * 40 / 100);  // about half of 6000 requests
  CHECK(search_slow_outside == 0);
  CHECK(search_slow_inside > search_inside / 2);
}

TEST_CASE("vigil gen access --no-pace writes the file and plan that vigil analyze flags") {
  test::temp_dir dir;
  const std::string bin = VIGIL_BINARY;
  auto r = test::run_command(bin + " gen access --no-pace --rate 50 --duration 10m --seed 11"
                                   " --start 2024-05-01T12:00:00Z --inject scan,bruteforce -o '"
                                   + (dir / "g.log") + "' --plan '" + (dir / "plan.json") + "' 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  auto plan = nlohmann::json::parse(test::read_file(dir / "plan.json"));
  REQUIRE(plan.size() == 2);
  const std::string scanner = plan[0]["client"], bruter = plan[1]["client"];
  auto out = test::analyze({dir / "g.log"}, 2);
  auto rep = build_report(*out.aggregate, report_options{});
  CHECK(rep.failed_requests == 0);
  CHECK(rep.valid_requests == 30000 + 120 + 60);
  bool scan_burst = false, brute_burst = false;
  for (const auto& b : rep.bursts) {
    scan_burst |= b.kind == "404_burst" && b.client == scanner;
    brute_burst |= b.kind == "brute_force" && b.client == bruter;
  }
  CHECK(scan_burst);
  CHECK(brute_burst);
  CHECK(test::run_command(bin + " gen access --inject meteor 2>/dev/null").exit_code == 2);
}

TEST_CASE("paced mode appends the whole workload and stops by itself") {
  test::temp_dir dir;
  auto r = test::run_command(std::string(VIGIL_BINARY) + " gen access --rate 500 --duration 2s -o '"
                             + (dir / "p.log") + "' 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  auto text = test::read_file(dir / "p.log");
  CHECK(std::count(text.begin(), text.end(), '\n') == 1000);
}
