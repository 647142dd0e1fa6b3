// File sinks that rotate (`rotate = "SIZE"` or a period), through vigil run
// and check-config on real files.

#include <filesystem>
#include <map>

#include <catch2/catch.hpp>

#include "actors/line_sink.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

const std::string bin = VIGIL_BINARY;

/// Segments 1..N of `path`, then the file itself, each as written.
std::vector<std::string> pieces(const std::string& path) {
  std::vector<std::string> out;
  for (uint64_t k = 1; k <= last_segment_on_disk(path); ++k) out.push_back(test::read_file(segment_path(path, k)));
  out.push_back(test::read_file(path));
  return out;
}

std::string sinks(const test::temp_dir& dir, const std::string& rotate) {
  return "[[sink]]\nname = \"records\"\ntype = \"jsonl\"\ninput = \"records\"\npath = \"" + dir / "records.jsonl" + "\"\n\n"
         "[[sink]]\nname = \"rotated\"\ntype = \"jsonl\"\ninput = \"records\"\npath = \"" + dir / "rot/records.jsonl" + "\"\n"
         "rotate = \"" + rotate + "\"\n\n"
         "[[sink]]\nname = \"csv\"\ntype = \"csv\"\ninput = \"records\"\npath = \"" + dir / "records.csv" + "\"\n"
         "columns = [\"order_id\", \"price\"]\n\n"
         "[[sink]]\nname = \"rotated_csv\"\ntype = \"csv\"\ninput = \"records\"\npath = \"" + dir / "rot/records.csv" + "\"\n"
         "columns = [\"order_id\", \"price\"]\nrotate = \"" + rotate + "\"\n";
}

std::string config(const test::temp_dir& dir, const std::string& sink_text) {
  return "[node]\nname = \"rot\"\nstate_dir = \"" + dir / "state" + "\"\nhttp = \"\"\n\n"
         "[[source]]\nname = \"orders\"\ntype = \"file\"\npath = \"" + dir / "orders.jsonl" + "\"\nschema = \"order\"\n\n"
         "[[schema]]\nname = \"order\"\n[[schema.field]]\nname = \"order_id\"\ntype = \"string\"\nrequired = true\n"
         "[[schema.field]]\nname = \"price\"\ntype = \"float\"\n\n" + sink_text;
}

} // namespace

TEST_CASE("vigil run: jsonl and csv sinks rotated by size hold, segment by segment, exactly what an unrotated sink writes") {
  test::temp_dir dir;
  auto g = test::run_command(bin + " gen events --kind orders --no-pace --count 4000 --seed 3 --out-dir '" + dir.path.string()
                             + "' 2>&1");
  REQUIRE(g.exit_code == 0);
  test::write_file(dir / "rot.toml", config(dir, sinks(dir, "16KiB")));
  auto r = test::run_command(bin + " run -c '" + dir / "rot.toml" + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);

  const auto jsonl = pieces(dir / "rot/records.jsonl");
  CHECK(jsonl.size() >= 4);
  std::string joined;
  for (const auto& p : jsonl) {
    CHECK(p.size() <= 16 * 1024);
    CHECK(p.back() == '\n');  // whole lines only
    joined += p;
  }
  CHECK(joined == test::read_file(dir / "records.jsonl"));

  const auto csv = pieces(dir / "rot/records.csv");
  CHECK(csv.size() >= 2);
  const std::string header = "order_id,price\n";
  std::string rows;
  for (const auto& p : csv) {
    REQUIRE(p.compare(0, header.size(), header) == 0);
    rows += p.substr(header.size());
  }
  CHECK(header + rows == test::read_file(dir / "records.csv"));
}

TEST_CASE("check-config: rotate takes a period or a size, on file sinks only") {
  test::temp_dir dir;
  auto check = [&](const std::string& sink_text) {
    test::write_file(dir / "c.toml", config(dir, sink_text));
    return test::run_command(bin + " check-config -c '" + dir / "c.toml" + "' 2>&1");
  };
  const std::string file_sink = "[[sink]]\nname = \"r\"\ntype = \"jsonl\"\ninput = \"records\"\npath = \"" + dir / "r.jsonl" + "\"\n";
  CHECK(check(file_sink + "rotate = \"1h\"\n").exit_code == 0);
  CHECK(check(file_sink + "rotate = \"100MB\"\n").exit_code == 0);
  auto r = check(file_sink + "rotate = \"lots\"\n");
  CHECK(r.exit_code != 0);
  CHECK(test::contains(r.out, "sink[r].rotate: expected a period of at least 1s"));
  r = check(file_sink + "rotate = \"10B\"\n");
  CHECK(r.exit_code != 0);
  r = check("[[sink]]\nname = \"c\"\ntype = \"console\"\ninput = \"records\"\nrotate = \"1h\"\n");
  CHECK(r.exit_code != 0);
  CHECK(test::contains(r.out, "sink[c].rotate: only jsonl and csv sinks (files) rotate"));
}

TEST_CASE("vigil run: a csv sink that cannot open fails the start with exit 1, as a jsonl sink does") {
  test::temp_dir dir;
  test::write_file(dir / "orders.jsonl", "{\"order_id\":\"o1\",\"price\":1.5}\n");
  std::filesystem::create_directory(dir / "taken.csv");
  test::write_file(dir / "c.toml", config(dir, "[[sink]]\nname = \"rows\"\ntype = \"csv\"\ninput = \"records\"\npath = \"" +
                                                 dir / "taken.csv" + "\"\n"));
  auto r = test::run_command(bin + " run -c '" + dir / "c.toml" + "' --once 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(test::contains(r.out, "sink rows: cannot open " + dir / "taken.csv" + " for appending: Is a directory"));
  CHECK_FALSE(std::filesystem::exists(dir / "state"));
}
