#include <catch2/catch.hpp>

#include "report/report_writers.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

std::string json_report(const std::vector<std::string>& files, size_t workers, size_t chunk) {
  auto out = test::analyze(files, workers, log_format::auto_detect, chunk);
  auto r = build_report(*out.aggregate, report_options{});
  return render_json(r, report_inputs{files, out.formats});
}

} // namespace

TEST_CASE("the JSON report is identical for 1 and for N workers") {
  const std::vector<std::string> files = {test::fixture("apache_combined_2000.log"),
                                          test::fixture("combined_mixed.log")};
  // Small chunks spread lines, visitors and minutes over many chunks and workers.
  const std::string one = json_report(files, 1, 1 << 20);
  CHECK(one == json_report(files, 2, 8192));
  CHECK(one == json_report(files, 4, 4096));
  CHECK(one == json_report(files, 7, 5000));
}

TEST_CASE("a gzip input reports the same as the plain file") {
  test::temp_dir dir;
  const std::string plain = test::fixture("apache_combined_2000.log");
  REQUIRE(test::run_command("gzip -c '" + plain + "' > '" + (dir / "a.log.gz") + "'").exit_code == 0);
  // A second gzip member appended (as logrotate's delaycompress + cat can make).
  REQUIRE(test::run_command("gzip -c '" + test::fixture("combined_mixed.log") + "' >> '" + (dir / "a.log.gz") + "'").exit_code == 0);
  auto gz = test::analyze({dir / "a.log.gz"}, 2);
  auto both = test::analyze({plain, test::fixture("combined_mixed.log")}, 2);
  auto a = build_report(*gz.aggregate, report_options{});
  auto b = build_report(*both.aggregate, report_options{});
  CHECK(render_json(a, {{"x"}, gz.formats}) == render_json(b, {{"x"}, {both.formats[0]}}));
}

TEST_CASE("a missing input fails before any work with the file name in the error") {
  analyze_job job;
  job.inputs = {test::fixture("combined_mixed.log"), "/nonexistent/access.log"};
  job.aggregate.signatures = test::default_signatures();
  analyze_outcome out;
  std::string error;
  CHECK_FALSE(run_analyze(job, out, error));
  CHECK(error.find("/nonexistent/access.log: cannot open") == 0);
}

TEST_CASE("a corrupt gzip input fails with the file name in the error") {
  test::temp_dir dir;
  std::string gz = test::run_command("gzip -c '" + test::fixture("apache_combined_2000.log") + "'").out;
  REQUIRE(gz.size() > 1000);
  gz.resize(gz.size() / 2);  // cut in the middle of the deflate stream
  test::write_file(dir / "cut.log.gz", gz);
  analyze_job job;
  job.inputs = {dir / "cut.log.gz"};
  job.aggregate.signatures = test::default_signatures();
  analyze_outcome out;
  std::string error;
  CHECK_FALSE(run_analyze(job, out, error));
  CHECK(error.find("cut.log.gz") != std::string::npos);
}

TEST_CASE("a line longer than the chunk is cut, quarantined as too long, and reading goes on") {
  test::temp_dir dir;
  const std::string good = R"L(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "ua")L";
  test::write_file(dir / "long.log", good + "\n" + std::string(3 << 20, 'A') + "\n" + good + "\n" + good);
  analyze_job job;
  job.inputs = {dir / "long.log"};
  job.reader.chunk_bytes = 1 << 20;
  job.aggregate.signatures = test::default_signatures();
  analyze_outcome out;
  std::string error;
  REQUIRE(run_analyze(job, out, error));
  auto r = build_report(*out.aggregate, report_options{});
  CHECK(r.valid_requests == 3);  // the last line has no newline and still counts
  CHECK(r.malformed[static_cast<size_t>(parse_error::too_long)] == 1);
}
