// The database writers against real databases: a SQLite file, and a
// PostgreSQL server started here on loopback. Rows and progress commit
// together, a refused row leaves the rest of its batch in, keyed tables
// upsert, a new column is added, and a server that goes away and comes back
// is written to again.

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "db/postgres_writer.hpp"
#include "db/row_text.hpp"
#include "db/sqlite_writer.hpp"
#include "support/postgres_server.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

table_spec orders_spec() {
  table_spec t;
  t.table = "orders";
  t.columns = {{"order_id", column_type::text}, {"total", column_type::real}, {"quantity", column_type::integer},
               {"paid", column_type::boolean}, {"ts", column_type::timestamp}};
  return t;
}

/// A row of the spec above in COPY text.
std::string row(const std::string& id, const std::string& total, const std::string& quantity = "1",
                const std::string& paid = "true") {
  std::string out;
  append_row_field(out, id);
  return out + "\t" + total + "\t" + quantity + "\t" + paid + "\t2024-01-01T00:00:00.000Z";
}

/// SQLite's answer to `sql`, rows by line, fields by '|'.
std::string sqlite_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string out;
  sqlite3_exec(
    db, sql.c_str(),
    [](void* to, int n, char** values, char**) {
      auto& s = *static_cast<std::string*>(to);
      for (int i = 0; i < n; ++i) s += (i ? "|" : "") + std::string(values[i] ? values[i] : "");
      s += "\n";
      return 0;
    },
    &out, nullptr);
  sqlite3_close(db);
  return out;
}

void sqlite_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

} // namespace

TEST_CASE("row text: fields with tabs, newlines and backslashes split back to what they were") {
  std::string line;
  append_row_field(line, "a\tb\nc\\d\re");
  line += "\t\\N\t";
  append_row_field(line, "plain");
  row_fields f;
  split_row_text(line, f);
  REQUIRE(f.values.size() == 3);
  CHECK(f.values[0] == "a\tb\nc\\d\re");
  CHECK(f.null[1]);
  CHECK(f.values[2] == "plain");
  CHECK_FALSE(f.null[2]);
}

TEST_CASE("row text: a window result becomes window_start, window_end, its group and its metrics") {
  table_spec t;
  t.columns = {{"window_start", column_type::timestamp}, {"window_end", column_type::timestamp},
               {"category", column_type::text}, {"orders", column_type::real}, {"top", column_type::json}};
  t.group_fields = {"category"};
  t.metric_names = {"orders", "top"};
  std::string out, error;
  REQUIRE(window_row_text(t,
                          R"({"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:01:00Z"},)"
                          R"("group":{"category":"books"},"metrics":{"orders":12,"top":[{"value":"p1","count":3}]}})",
                          out, error));
  CHECK(out == "2024-01-01T00:00:00Z\t2024-01-01T00:01:00Z\tbooks\t12\t[{\"count\":3,\"value\":\"p1\"}]");
  CHECK_FALSE(window_row_text(t, "not json", out, error));
}

TEST_CASE("sqlite writer: rows and progress commit together, and a row the table refuses leaves the rest of its batch in") {
  test::temp_dir dir;
  const std::string path = dir / "shop.db";
  sqlite_exec(path, "CREATE TABLE orders (order_id TEXT NOT NULL, total REAL CHECK (total >= 0), quantity INTEGER, "
                    "paid INTEGER, ts TEXT)");
  auto w = make_sqlite_writer(path, orders_spec(), {"n1", "db", true});
  std::string error;
  REQUIRE(w->connect(error));
  db_progress p;
  REQUIRE(w->read_progress(p, error));
  CHECK(p.rows == 0);
  auto r = w->write({row("o1", "10.5"), row("o2", "3"), row("o3", "-1"), row("o\t4", "7", "2", "false")}, 0, 4, 9);
  REQUIRE(r.committed);
  REQUIRE(r.rejects.size() == 1);
  CHECK(r.rejects[0].position == 2);
  CHECK(test::contains(r.rejects[0].error, "CHECK constraint failed"));
  CHECK(sqlite_query(path, "SELECT order_id, total, quantity, paid, typeof(quantity) FROM orders ORDER BY rowid") ==
        "o1|10.5|1|1|integer\no2|3.0|1|1|integer\no\t4|7.0|2|0|integer\n");
  CHECK(sqlite_query(path, "SELECT rows_written, checkpoint_id FROM vigil_sink_progress WHERE node = 'n1' AND sink = "
                           "'db' AND table_name = 'orders'") == "4|9\n");
  CHECK(sqlite_query(path, "SELECT row_position, row_text FROM vigil_sink_rejects") == "2|" + row("o3", "-1") + "\n");
  REQUIRE(w->read_progress(p, error));
  CHECK(p.rows == 4);
  CHECK(p.checkpoint == 9);
}

TEST_CASE("sqlite writer: a keyed table upserts, and a column the config adds is added to the table") {
  test::temp_dir dir;
  const std::string path = dir / "shop.db";
  auto spec = orders_spec();
  spec.key = {0};
  std::string error;
  {
    auto w = make_sqlite_writer(path, spec, {"n1", "db", true});
    auto r = w->write({row("o1", "1"), row("o2", "2"), row("o1", "5")}, 0, 3, 1);
    INFO(r.error);
    REQUIRE(r.committed);
    CHECK(r.rejects.empty());
  }
  CHECK(sqlite_query(path, "SELECT order_id, total FROM orders ORDER BY order_id") == "o1|5.0\no2|2.0\n");
  spec.columns.push_back({"coupon", column_type::text});
  auto w = make_sqlite_writer(path, spec, {"n1", "db", true});
  auto r = w->write({row("o3", "3") + "\tSPRING"}, 3, 4, 2);
  INFO(r.error);
  REQUIRE(r.committed);
  CHECK(sqlite_query(path, "SELECT order_id, coalesce(coupon, '-') FROM orders ORDER BY order_id") ==
        "o1|-\no2|-\no3|SPRING\n");
  // Without create_table, a missing column is an error that says which.
  spec.columns.push_back({"channel", column_type::text});
  auto strict = make_sqlite_writer(path, spec, {"n1", "db", false});
  CHECK_FALSE(strict->connect(error));
  CHECK(test::contains(error, "table orders has no column channel"));
}

TEST_CASE("postgres writer: COPY batches, a refused row in mid-batch, upserts, and a server that stops and comes back") {
  test::postgres_server pg(test::free_port());
  INFO(pg.error());
  REQUIRE(pg.ok());
  REQUIRE(pg.query("CREATE TABLE orders (order_id TEXT NOT NULL, total DOUBLE PRECISION CHECK (total >= 0), quantity "
                   "BIGINT, paid BOOLEAN, ts TIMESTAMPTZ)").empty());
  auto w = make_postgres_writer(pg.dsn(), orders_spec(), {"n1", "db", true});
  CHECK(test::contains(w->describe(), "host 127.0.0.1 port " + std::to_string(pg.port())));
  std::string error;
  REQUIRE(w->connect(error));
  std::vector<std::string> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(row("o" + std::to_string(i), i == 500 ? "-1" : std::to_string(i)));
  rows.push_back(row("bad-type", "not a number"));
  auto r = w->write(rows, 100, 1101, 4);
  INFO(r.error);
  REQUIRE(r.committed);
  REQUIRE(r.rejects.size() == 2);
  CHECK(r.rejects[0].position == 600);
  CHECK(test::contains(r.rejects[0].error, "check constraint"));
  CHECK(r.rejects[1].position == 1100);
  CHECK(test::contains(r.rejects[1].error, "invalid input syntax"));
  CHECK(pg.query("SELECT count(*), count(DISTINCT order_id), sum(quantity) FROM orders") == "999|999|999\n");
  CHECK(pg.query("SELECT rows_written, checkpoint_id FROM vigil_sink_progress") == "1101|4\n");
  CHECK(pg.query("SELECT row_position FROM vigil_sink_rejects ORDER BY 1") == "600\n1100\n");
  CHECK(pg.query("SELECT ts FROM orders LIMIT 1") == "2024-01-01 00:00:00+00\n");

  // Keyed: the newest row of a key wins, in one batch or across two.
  auto spec = orders_spec();
  spec.table = "latest";
  spec.key = {0};
  auto keyed = make_postgres_writer(pg.dsn(), spec, {"n1", "latest", true});
  r = keyed->write({row("k1", "1"), row("k2", "2"), row("k1", "3")}, 0, 3, 1);
  INFO(r.error);
  REQUIRE(r.committed);
  r = keyed->write({row("k2", "20")}, 3, 4, 2);
  REQUIRE(r.committed);
  CHECK(pg.query("SELECT order_id, total FROM latest ORDER BY 1") == "k1|3\nk2|20\n");
  // A field the config adds is a column added to the table.
  spec.columns.push_back({"coupon", column_type::text});
  auto wider = make_postgres_writer(pg.dsn(), spec, {"n1", "latest", true});
  r = wider->write({row("k3", "4") + "\tSPRING"}, 4, 5, 3);
  INFO(r.error);
  REQUIRE(r.committed);
  CHECK(pg.query("SELECT order_id, coalesce(coupon, '-') FROM latest ORDER BY 1") == "k1|-\nk2|-\nk3|SPRING\n");

  // The server goes away: the write fails with a reason and nothing is in;
  // once it is back, the same writer writes again.
  pg.stop();
  r = w->write({row("after", "1")}, 1101, 1102, 5);
  CHECK_FALSE(r.committed);
  CHECK_FALSE(r.error.empty());
  REQUIRE(pg.start());
  r = w->write({row("after", "1")}, 1101, 1102, 5);
  INFO(r.error);
  if (!r.committed) r = w->write({row("after", "1")}, 1101, 1102, 5);  // the first may find the old connection dead
  REQUIRE(r.committed);
  CHECK(pg.query("SELECT count(*) FROM orders WHERE order_id = 'after'") == "1\n");
  CHECK(pg.query("SELECT rows_written FROM vigil_sink_progress WHERE sink = 'db'") == "1102\n");
}
