#include <catch2/catch.hpp>

#include <thread>

#include "record/record_pipeline.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

lookup_config products(const std::string& path) {
  lookup_config l;
  l.name = "products";
  l.path = path;
  l.key = {"product_id"};
  l.fields = {"category", "unit_price"};
  return l;
}

// A file's change must be visible to stat (size or mtime): tests that
// rewrite a file within one timestamp tick would otherwise look unchanged.
void rewrite(const std::string& path, const std::string& text) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  test::write_file(path, text);
}

} // namespace

TEST_CASE("lookup: rows keyed by a column, fields in the lookup's order, columns found by the header") {
  test::temp_dir dir;
  test::write_file(dir / "p.csv", "unit_price,product_id,category\n12.50,p1,books\n\"1,5\",p2,\"board, games\"\n");
  std::string error;
  auto t = lookup_table::load(products(dir / "p.csv"), error);
  REQUIRE(t);
  CHECK(t->size() == 2);
  const std::string* row = t->find("p2");
  REQUIRE(row);
  CHECK(row[0] == "board, games");
  CHECK(row[1] == "1,5");
  CHECK_FALSE(t->find("p3"));
}

TEST_CASE("lookup: a multi-column key joins its columns") {
  test::temp_dir dir;
  test::write_file(dir / "r.csv", "country,tier,discount\nde,gold,0.2\nde,basic,0\n");
  lookup_config l;
  l.path = dir / "r.csv";
  l.key = {"country", "tier"};
  l.fields = {"discount"};
  std::string error;
  auto t = lookup_table::load(l, error);
  REQUIRE(t);
  const std::string key = std::string("de") + lookup_table::key_separator + "gold";
  REQUIRE(t->find(key));
  CHECK(t->find(key)[0] == "0.2");
}

TEST_CASE("lookup: a bad file is refused with FILE:LINE: what") {
  test::temp_dir dir;
  std::string error;
  test::write_file(dir / "a.csv", "product_id,category\np1,books\n");
  CHECK_FALSE(lookup_table::load(products(dir / "a.csv"), error));
  CHECK(error == dir / "a.csv" + ":1: the header has no column \"unit_price\" (it has: product_id,category)");
  test::write_file(dir / "b.csv", "product_id,category,unit_price\np1,books,1\np2,games\n");
  CHECK_FALSE(lookup_table::load(products(dir / "b.csv"), error));
  CHECK(error == dir / "b.csv" + ":3: expected 3 columns (as the header), got 2");
  test::write_file(dir / "c.csv", "");
  CHECK_FALSE(lookup_table::load(products(dir / "c.csv"), error));
  CHECK(error == dir / "c.csv" + ": empty (expected a header line)");
  CHECK_FALSE(lookup_table::load(products(dir / "none.csv"), error));
  CHECK(error == dir / "none.csv" + ": cannot open");
}

TEST_CASE("lookup: a changed file is reloaded whole, and a bad reload keeps the table in use") {
  test::temp_dir dir;
  const std::string path = dir / "p.csv";
  test::write_file(path, "product_id,category,unit_price\np1,books,1\n");
  auto tables = load_lookup_tables({products(path)});
  auto before = tables->snapshot()[0];
  REQUIRE(before);
  CHECK(before->find("p1")[0] == "books");

  rewrite(path, "product_id,category,unit_price\np1,comics,1\np2,games,2\n");
  tables->refresh();
  auto after = tables->snapshot()[0];
  REQUIRE(after);
  CHECK(after->find("p1")[0] == "comics");
  CHECK(after->find("p2"));
  // A batch that took the old snapshot keeps reading it, whole.
  CHECK(before->find("p1")[0] == "books");
  CHECK_FALSE(before->find("p2"));
  CHECK(tables->failed_reloads() == 0);

  rewrite(path, "product_id,category,unit_price\np1,broken\n");
  tables->refresh();
  CHECK(tables->failed_reloads() == 1);
  CHECK(tables->snapshot()[0] == after);  // the table in use stays
  // Looked at again without a change: not reloaded (nor failed) twice.
  tables->refresh();
  CHECK(tables->failed_reloads() == 1);
}
