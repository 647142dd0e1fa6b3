// vigil run with sqlite and postgres sinks, as a user runs it: generated
// orders, config/orders.toml, a SQLite file and a real PostgreSQL server
// started here on loopback.

#include <algorithm>
#include <ctime>
#include <map>
#include <sstream>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>

#include "support/postgres_server.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

/// config/orders.toml pointed at `dir`, with `extra` sinks and HTTP port `http` ("" none).
std::string orders_config(const test::temp_dir& dir, const std::string& extra, const std::string& http = "") {
  std::string cfg = test::read_file(std::string(VIGIL_SOURCE_DIR) + "/config/orders.toml");
  cfg = replace_all(cfg, "var/orders", dir.path.string());
  cfg = replace_all(cfg, "http = \"127.0.0.1:9465\"", "http = \"" + http + "\"");
  test::write_file(dir / "orders.toml", cfg + extra);
  return dir / "orders.toml";
}

std::string sqlite3(const std::string& db, const std::string& sql) {
  return test::run_command("sqlite3 -separator '|' '" + db + "' \"" + sql + "\" 2>&1").out;
}

/// The order ids of the JSONL records, in file order, one per line.
std::string record_ids(const std::string& path) {
  std::string out;
  std::istringstream in(test::read_file(path));
  for (std::string line; std::getline(in, line);) out += json::parse(line).at("order_id").get<std::string>() + "\n";
  return out;
}

std::string postgres_sinks(const test::postgres_server& pg) {
  return "\n[[sink]]\nname = \"pg_orders\"\ntype = \"postgres\"\ninput = \"records\"\ndsn = \"" + pg.dsn() +
         "\"\ntable = \"orders\"\n\n"
         "[[sink]]\nname = \"pg_minute\"\ntype = \"postgres\"\ninput = \"window:category_minute\"\ndsn = \"" + pg.dsn() +
         "\"\ntable = \"category_minute\"\n";
}

} // namespace

TEST_CASE("vigil run, database sinks: records land in SQLite and PostgreSQL as in the JSONL file, a refused row is quarantined") {
  test::temp_dir dir;
  test::postgres_server pg(test::free_port());
  INFO(pg.error());
  REQUIRE(pg.ok());
  // The operator's own table, with a constraint one order breaks.
  REQUIRE(pg.query("CREATE TABLE orders (order_id TEXT PRIMARY KEY CHECK (order_id <> 'o-7'), user_id TEXT, "
                   "event_type TEXT, product_id TEXT, quantity BIGINT, price DOUBLE PRECISION, discount DOUBLE "
                   "PRECISION, payment_status TEXT, country TEXT, ts TIMESTAMPTZ, total DOUBLE PRECISION, basket "
                   "TEXT, hour BIGINT, category TEXT)").empty());
  auto g = test::run_command(bin + " gen events --kind orders --no-pace --start 2024-01-01T00:00:00Z --rate 200 "
                             "--duration 4m --inject bad,duplicates,schema_drift --out-dir '" + dir.path.string() + "' 2>&1");
  REQUIRE(g.exit_code == 0);
  const std::string cfg = orders_config(dir, postgres_sinks(pg));
  for (int run = 0; run < 2; ++run) {  // the second finds everything written: it writes nothing again
    auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
  }
  const std::string ids = record_ids(dir / "records.jsonl");
  const size_t records = test::occurrences(ids, "\n");
  REQUIRE(records > 40000);
  REQUIRE(test::contains(ids, "o-7\n"));
  // SQLite (config/orders.toml's sinks): every record once, in order.
  CHECK(sqlite3(dir / "orders.db", "SELECT order_id FROM orders ORDER BY rowid") == ids);
  CHECK(sqlite3(dir / "orders.db", "SELECT rows_written FROM vigil_sink_progress WHERE sink = 'orders_db'") ==
        std::to_string(records) + "\n");
  const size_t minutes = test::occurrences(test::read_file(dir / "shop_minute.jsonl"), "\n");
  CHECK(sqlite3(dir / "orders.db", "SELECT count(*), count(DISTINCT window_start) FROM shop_minute") ==
        std::to_string(minutes) + "|" + std::to_string(minutes) + "\n");
  // PostgreSQL: every record but the refused one, which is in the rejects
  // table and, as a copy, in the quarantine.
  CHECK(pg.query("SELECT count(*), count(DISTINCT order_id) FROM orders") ==
        std::to_string(records - 1) + "|" + std::to_string(records - 1) + "\n");
  CHECK(pg.query("SELECT count(*) FROM orders WHERE order_id = 'o-7'") == "0\n");
  CHECK(test::contains(pg.query("SELECT error FROM vigil_sink_rejects WHERE sink = 'pg_orders'"), "orders_order_id_check"));
  CHECK(pg.query("SELECT rows_written FROM vigil_sink_progress WHERE sink = 'pg_orders'") == std::to_string(records) + "\n");
  CHECK(test::occurrences(test::read_file(dir / "quarantine.jsonl"), "\"reason\":\"db_rejected\"") == 1);
  const size_t groups = test::occurrences(test::read_file(dir / "category_minute.jsonl"), "\n");
  CHECK(pg.query("SELECT count(*) FROM category_minute") == std::to_string(groups) + "\n");
  // A field the schema adds (the generator's drifting "coupon") becomes a
  // column of both tables, filled from the next events on.
  std::string text = test::read_file(cfg);
  const std::string ts_field = "[[schema.field]]\nname = \"ts\"";
  REQUIRE(text.find(ts_field) != std::string::npos);
  text.replace(text.find(ts_field), 0, "[[schema.field]]\nname = \"coupon\"\ntype = \"string\"\n\n");
  test::write_file(cfg, text);
  test::temp_dir later;
  g = test::run_command(bin + " gen events --kind orders --no-pace --start 2024-01-01T00:05:00Z --rate 200 --duration 1m "
                        "--seed 2 --inject schema_drift --out-dir '" + later.path.string() + "' 2>&1");
  REQUIRE(g.exit_code == 0);
  {
    std::ofstream out(dir / "orders.jsonl", std::ios::app);
    out << replace_all(test::read_file(later / "orders.jsonl"), "\"o-", "\"late-o-");
  }
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const std::string all_ids = record_ids(dir / "records.jsonl");
  CHECK(sqlite3(dir / "orders.db", "SELECT order_id FROM orders ORDER BY rowid") == all_ids);
  CHECK(sqlite3(dir / "orders.db", "SELECT count(coupon) > 0, count(*) FILTER (WHERE coupon IS NOT NULL AND order_id "
                                   "NOT LIKE 'late-%') FROM orders") == "1|0\n");
  CHECK(pg.query("SELECT count(*), count(coupon) > 0 FROM orders") ==
        std::to_string(test::occurrences(all_ids, "\n") - 1) + "|t\n");

  // The table vigil made for the window has its types.
  CHECK(pg.query("SELECT data_type FROM information_schema.columns WHERE table_name = 'category_minute' AND "
                 "column_name IN ('window_start', 'revenue') ORDER BY column_name") ==
        "double precision\ntimestamp with time zone\n");
}

TEST_CASE("vigil run, PostgreSQL stopped and started while vigil runs: the node waits, then every row is written once") {
  test::temp_dir dir;
  test::postgres_server pg(test::free_port());
  INFO(pg.error());
  REQUIRE(pg.ok());
  auto g = test::run_command(bin + " gen events --kind orders --no-pace --start 2024-01-01T00:00:00Z --rate 100 "
                             "--duration 6m --out-dir '" + dir.path.string() + "' -o '" + (dir / "all.jsonl") + "' 2>&1");
  REQUIRE(g.exit_code == 0);
  const std::string all = test::read_file(dir / "all.jsonl");
  const size_t half = all.find('\n', all.size() / 2) + 1;
  test::write_file(dir / "orders.jsonl", all.substr(0, half));
  const int port = test::free_port();
  const std::string cfg = orders_config(dir, postgres_sinks(pg), "127.0.0.1:" + std::to_string(port));
  pid_t node = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  REQUIRE(node > 0);
  test::stop_at_exit stop_node{node};
  auto pg_rows = [&] { return pg.query("SELECT count(*) FROM orders"); };
  auto jsonl_rows = [&] { return std::to_string(test::occurrences(test::read_file(dir / "records.jsonl"), "\n")) + "\n"; };
  REQUIRE(test::wait_until([&] { return jsonl_rows() != "0\n" && pg_rows() == jsonl_rows(); }));

  pg.stop();
  {
    std::ofstream out(dir / "orders.jsonl", std::ios::app);
    out << all.substr(half);
  }
  httplib::Client http("127.0.0.1", port);
  REQUIRE(test::wait_until([&] {
    auto page = http.Get("/metrics");
    return page && test::metric(page->body, "vigil_sinks_failing") >= 1;
  }));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int status = 0;
  REQUIRE(::waitpid(node, &status, WNOHANG) == 0);  // still running: it waits for the database
  CHECK(test::contains(test::read_file(dir / "run.log"), "retrying (the pipeline waits, nothing is dropped)"));

  REQUIRE(pg.start());
  const std::string every = std::to_string(test::occurrences(all, "\n")) + "\n";  // all valid, none repeated
  REQUIRE(test::wait_until([&] { return jsonl_rows() == every && pg_rows() == every; }));
  // The sink stops counting as failing once its retried commit returns,
  // a moment after the rows are visible.
  CHECK(test::wait_until([&] {
    auto p = http.Get("/metrics");
    return p && test::metric(p->body, "vigil_sinks_failing") == 0;
  }));
  auto page = http.Get("/metrics");
  REQUIRE(page);
  CHECK(test::metric(page->body, "vigil_sink_retries_total{sink=\"pg_orders\"}") >= 1);
  CHECK(test::metric(page->body, "vigil_sink_rows_total{sink=\"pg_orders\",result=\"written\"}") ==
        static_cast<double>(test::occurrences(all, "\n")));
  // The dashboard's view of the closed windows: each shop minute's metrics
  // as its result line has them, and the categories of the newest minute
  // ranked by orders.
  auto view = json::parse(http.Get("/api/v1/status")->body);
  std::map<std::string, json> windows;
  for (const auto& w : view["windows"]) windows[w["name"].get<std::string>()] = w;
  const auto& shop = windows["shop_minute"];
  const auto names = shop["metrics"].get<std::vector<std::string>>();
  const size_t orders_at = std::find(names.begin(), names.end(), "orders") - names.begin();
  REQUIRE(orders_at < names.size());
  std::map<std::string, double> orders_by_minute;
  {
    std::istringstream in(test::read_file(dir / "shop_minute.jsonl"));
    for (std::string line; std::getline(in, line);) {
      auto r = json::parse(line);
      orders_by_minute[r["window"]["start"].get<std::string>()] = r["metrics"]["orders"].get<double>();
    }
  }
  REQUIRE(shop["points"].size() >= 4);
  CHECK(shop["points"].size() == orders_by_minute.size());
  for (const auto& p : shop["points"]) {
    char start[32];
    const std::time_t t = p[0].get<int64_t>() / 1000;
    std::strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    CHECK(p[orders_at + 1].get<double>() == orders_by_minute[start]);
  }
  const auto& top = windows["category_minute"]["top"];
  REQUIRE(top.size() >= 2);
  CHECK(top[0][1].get<double>() >= top[1][1].get<double>());
  CHECK(test::contains(top[0][0].get<std::string>(), "category="));
  test::write_file(dir / "metrics.txt", page->body);
  auto lint = test::run_command("promtool check metrics < '" + dir / "metrics.txt" + "' 2>&1");
  INFO(lint.out);
  CHECK(lint.exit_code == 0);
  ::kill(node, SIGTERM);
  CHECK(test::wait_process(node) == 0);
  stop_node.pid = -1;
  CHECK(pg.query("SELECT count(*) - count(DISTINCT order_id) FROM orders") == "0\n");
  CHECK(pg_rows() == jsonl_rows());
}
