#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "anomaly/series_detector.hpp"
#include "anomaly/series_file.hpp"
#include "parse/timestamp.hpp"
#include "support/test_support.hpp"

using namespace vigil;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

constexpr int64_t april = 1396310400000;  // 2014-04-01 00:00:00 UTC

/// "2014-04-01 00:05:00", as NAB writes times.
std::string nab_time(int64_t ms) {
  std::string s = format_rfc3339_utc(ms).substr(0, 19);
  s[10] = ' ';
  return s;
}

/// A NAB-style series: 5-minute steps, busy half days, a spike at row 1500.
std::vector<std::pair<int64_t, double>> series(size_t n) {
  std::vector<std::pair<int64_t, double>> out;
  for (size_t i = 0; i < n; ++i)
    out.emplace_back(april + static_cast<int64_t>(i) * 300000,
                     (i == 1500 ? 400.0 : 100.0) + (i % 288 < 144 ? 20.0 : 0.0) + static_cast<double>(i * 37 % 11));
  return out;
}

} // namespace

TEST_CASE("vigil anomaly score writes NAB's results layout with the live detector's scores", "[anomaly][cli]") {
  test::temp_dir dir;
  const fs::path in = fs::path(dir.path) / "realKnownCause" / "spiky.csv";
  fs::create_directories(in.parent_path());
  const auto points = series(3000);
  {
    std::ofstream out(in);
    out << "timestamp,value\n";
    for (const auto& [t, v] : points) out << nab_time(t) << "," << v << "\n";
  }
  const fs::path out_dir = fs::path(dir.path) / "results";
  auto r = test::run_command(std::string(VIGIL_BINARY) + " anomaly score --out-dir '" + out_dir.string() + "' '" +
                             in.string() + "' 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("baseline over 1 file: 3000 points, 1 alerts"));
  const auto rows = lines_of(slurp(out_dir / "realKnownCause" / "baseline_spiky.csv"));
  REQUIRE(rows.size() == 3001);
  CHECK(rows[0] == "timestamp,value,anomaly_score");
  // The same scores as the detector the window stage runs, point by point.
  series_detector live;
  size_t alerts = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto p = live.observe(points[i].first, points[i].second);
    const std::string& row = rows[i + 1];
    REQUIRE(row.rfind(nab_time(points[i].first) + ",", 0) == 0);
    REQUIRE(std::stod(row.substr(row.rfind(',') + 1)) == Approx(p.score).margin(1e-12));
    alerts += p.alert;
    if (i == 1500) CHECK(p.alert);
  }
  CHECK(alerts == 1);
}

TEST_CASE("vigil anomaly score: rows that do not read are scored 0 and said, never dropped", "[anomaly][cli]") {
  test::temp_dir dir;
  const fs::path in = fs::path(dir.path) / "mine" / "s.csv";
  fs::create_directories(in.parent_path());
  std::ofstream(in) << "timestamp,value\n2014-04-01 00:00:00,1\nyesterday,2\n2014-04-01 00:10:00,abc\n"
                       "2014-04-01 00:15:00,4\n1396311600,5\n";
  const fs::path out_dir = fs::path(dir.path) / "out";
  auto r = test::run_command(std::string(VIGIL_BINARY) + " anomaly score --detector gaussian --out-dir '" +
                             out_dir.string() + "' '" + in.string() + "' 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("2 rows not read (scored 0), the first " + in.string() + ":3: time 'yesterday'"));
  const auto rows = lines_of(slurp(out_dir / "mine" / "gaussian_s.csv"));
  REQUIRE(rows.size() == 6);
  CHECK(rows[2] == "yesterday,2,0");
  CHECK(rows[3] == "2014-04-01 00:10:00,abc,0");
  CHECK(rows[5].rfind("1396311600,5,", 0) == 0);  // Unix seconds read as times
}

TEST_CASE("vigil anomaly score: a detector of a config, and clear errors", "[anomaly][cli]") {
  test::temp_dir dir;
  const fs::path cfg = fs::path(dir.path) / "vigil.toml";
  std::ofstream(cfg) << "[node]\nname = \"n\"\nstate_dir = \"" << (dir / "state") << "\"\n"
                        "[[source]]\nname = \"a\"\ntype = \"file\"\npath = \"/tmp/x.log\"\n"
                        "[[window]]\nname = \"minute\"\ntype = \"tumbling\"\nsize = \"1m\"\n"
                        "[[detector]]\nname = \"traffic\"\nwindow = \"minute\"\nmetric = \"requests\"\n"
                        "method = \"gaussian\"\nlearn = 10\n";
  const fs::path in = fs::path(dir.path) / "cat" / "s.csv";
  fs::create_directories(in.parent_path());
  std::ofstream(in) << "timestamp,value\n2014-04-01 00:00:00,1\n";
  const std::string bin = std::string(VIGIL_BINARY) + " anomaly score ";
  auto ok = test::run_command(bin + "-c '" + cfg.string() + "' --detector traffic --out-dir '" + (dir / "o") + "' '" +
                              in.string() + "' 2>&1");
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(fs::exists(fs::path(dir.path) / "o" / "cat" / "traffic_s.csv"));
  auto missing = test::run_command(bin + "-c '" + cfg.string() + "' --detector nope --out-dir '" + (dir / "o") + "' '" +
                                   in.string() + "' 2>&1");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.out, Catch::Contains("has no [[detector]] named 'nope' (it has traffic)"));
  auto method = test::run_command(bin + "--detector htm --out-dir '" + (dir / "o") + "' '" + in.string() + "' 2>&1");
  CHECK(method.exit_code == 2);
  CHECK_THAT(method.out, Catch::Contains("no method 'htm' (methods: baseline and gaussian)"));
  auto absent = test::run_command(bin + "--out-dir '" + (dir / "o") + "' '" + (dir / "none.csv") + "' 2>&1");
  CHECK(absent.exit_code == 1);
  CHECK_THAT(absent.out, Catch::Contains("none.csv: No such file or directory"));
}
