// The ETL job as a user runs it: `vigil gen events`, `vigil run` on
// config/orders.toml and config/ysb.toml, real files.

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

const std::string bin = VIGIL_BINARY;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

/// config/orders.toml pointed at `dir`, without its HTTP port.
std::string orders_config(const test::temp_dir& dir, const std::string& extra = "") {
  std::string cfg = test::read_file(std::string(VIGIL_SOURCE_DIR) + "/config/orders.toml");
  cfg = replace_all(cfg, "var/orders", dir.path.string());
  cfg = replace_all(cfg, "http = \"127.0.0.1:9465\"", "http = \"\"");
  REQUIRE(!test::contains(cfg, "var/"));
  test::write_file(dir / "orders.toml", cfg + extra);
  return dir / "orders.toml";
}

std::vector<json> json_lines(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(test::read_file(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

test::command_result gen_orders(const test::temp_dir& dir, const std::string& args) {
  return test::run_command(bin + " gen events --kind orders --no-pace --start 2024-01-01T00:00:00Z --out-dir '"
                           + dir.path.string() + "' " + args + " 2>&1");
}

} // namespace

TEST_CASE("vigil run, ETL: orders become clean records, CSV, business metrics, alerts and quarantined events with reasons") {
  test::temp_dir dir;
  auto g = gen_orders(dir, "--rate 300 --duration 9m --inject payment_failures,revenue_drop,bad,duplicates,schema_drift --bad-rate 0.05");
  REQUIRE(g.exit_code == 0);
  const std::string cfg = orders_config(dir);
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);

  const auto input = test::read_file(dir / "orders.jsonl");
  const size_t lines = test::occurrences(input, "\n");
  const auto records = json_lines(dir / "records.jsonl");
  const auto bad = json_lines(dir / "quarantine.jsonl");
  // Every line is a record, a quarantined event or a re-sent duplicate.
  std::set<std::string> ids;
  size_t drifted = 0;
  for (const auto& rec : records) {
    CHECK(ids.insert(rec.at("order_id").get<std::string>()).second);  // dedup: each order once
    CHECK(rec.at("total").is_number());
    CHECK(rec.contains("category"));  // the product table joined
    drifted += rec.contains("coupon");
  }
  CHECK(drifted > 100);  // schema drift: the new field passes through and the stream goes on
  size_t duplicates = 0;
  {
    std::set<std::string> seen;
    std::istringstream in(input);
    for (std::string line; std::getline(in, line);)
      if (line.find("\"order_id\"") != std::string::npos && !seen.insert(line).second) ++duplicates;
  }
  CHECK(duplicates > 100);
  CHECK(records.size() + bad.size() + duplicates == lines);
  // Each quarantined event says why, in which field, with the value.
  std::map<std::string, size_t> reasons;
  for (const auto& b : bad) {
    ++reasons[b.at("reason").get<std::string>() + ":" + b.at("field").get<std::string>()];
    CHECK(b.at("source") == "orders");
    CHECK(b.at("offset").is_number());
    CHECK(!b.at("text").get<std::string>().empty());
  }
  CHECK(reasons["bad_json:"] > 0);
  CHECK(reasons["out_of_range:quantity"] > 0);
  CHECK(reasons["bad_type:price"] > 0);
  CHECK(reasons.size() == 3);

  // The purchases route, as CSV with its header once.
  const auto csv = test::read_file(dir / "purchases.csv");
  CHECK(csv.rfind("order_id,user_id,product_id,category,quantity,total,payment_status,ts\n", 0) == 0);
  size_t purchases = 0;
  for (const auto& rec : records) purchases += rec.at("event_type") == "purchase";
  CHECK(test::occurrences(csv, "\n") == purchases + 1);

  // The business metrics add up to the records.
  double revenue = 0;
  for (const auto& rec : records) revenue += rec.at("total").get<double>();
  double windows_revenue = 0;
  for (const auto& w : json_lines(dir / "shop_minute.jsonl")) windows_revenue += w.at("metrics").at("revenue").get<double>();
  CHECK(windows_revenue == Approx(revenue).epsilon(1e-9));

  // Data quality per minute: the quarantined events that had a good event
  // time, and the re-sent ones, counted in their windows.
  size_t timed_bad = 0;
  for (const auto& b : bad) timed_bad += test::contains(b.at("text").get<std::string>(), "\"ts\":\"20");
  double invalid_in_windows = 0, duplicates_in_windows = 0, coerced = 0;
  for (const auto& w : json_lines(dir / "shop_minute.jsonl")) {
    invalid_in_windows += w.at("metrics").at("invalid_events").get<double>();
    duplicates_in_windows += w.at("metrics").at("duplicate_events").get<double>();
    coerced += w.at("metrics").at("coerced_quantities").get<double>();
  }
  CHECK(timed_bad > 100);
  CHECK(invalid_in_windows == timed_bad);
  CHECK(duplicates_in_windows == duplicates);
  CHECK(coerced >= drifted);  // drift sends quantity as a string: coerce takes it

  // Both incidents alert, each once, and resolve.
  std::map<std::string, std::vector<std::string>> alerts;
  for (const auto& a : json_lines(dir / "alerts.jsonl")) alerts[a.at("rule")].push_back(a.at("status"));
  CHECK(alerts["payment_failures"] == std::vector<std::string>{"firing", "resolved"});
  CHECK(alerts["revenue_drop"] == std::vector<std::string>{"firing", "resolved"});
}

TEST_CASE("vigil run, ETL: a dedup key seen before a restart is still a duplicate after it") {
  test::temp_dir dir;
  const std::string cfg = orders_config(dir);
  const std::string products = "product_id,category,unit_price\np1,books,10\n";
  test::write_file(dir / "products.csv", products);
  auto order = [](int id, int second) {
    return "{\"order_id\":\"o" + std::to_string(id) + "\",\"user_id\":\"u1\",\"event_type\":\"purchase\",\"product_id\":\"p1\","
           "\"quantity\":1,\"price\":10,\"ts\":\"2024-01-01T00:00:" + (second < 10 ? "0" : "") + std::to_string(second) + "Z\"}\n";
  };
  test::write_file(dir / "orders.jsonl", order(1, 1) + order(2, 2));
  // A graceful stop checkpoints the filter; the next run finds o2 again.
  const pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run1.log");
  REQUIRE(test::wait_until([&] { return test::occurrences(test::read_file(dir / "records.jsonl"), "\n") == 2; }));
  ::kill(pid, SIGTERM);
  REQUIRE(test::wait_process(pid) == 0);
  std::ofstream(dir / "orders.jsonl", std::ios::app) << order(2, 3) << order(3, 4) << order(1, 5);
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> ids;
  for (const auto& rec : json_lines(dir / "records.jsonl")) ids.push_back(rec.at("order_id"));
  CHECK(ids == std::vector<std::string>{"o1", "o2", "o3"});
  CHECK(test::contains(r.out, "2 duplicate lines dropped"));
}

TEST_CASE("vigil run, ETL: an event stamped years ahead is quarantined as future_timestamp, the later ones still count") {
  test::temp_dir dir;
  const std::string cfg = orders_config(dir);
  test::write_file(dir / "products.csv", "product_id,category,unit_price\np1,books,10\n");
  auto order = [](int id, const std::string& ts) {
    return "{\"order_id\":\"o" + std::to_string(id) + "\",\"user_id\":\"u1\",\"event_type\":\"purchase\",\"product_id\":\"p1\","
           "\"quantity\":1,\"price\":10,\"ts\":\"" + ts + "\"}\n";
  };
  test::write_file(dir / "orders.jsonl", order(1, "2024-01-01T00:00:01Z") + order(2, "2099-01-01T00:00:00Z")
                                           + order(3, "2024-01-01T00:00:02Z") + order(4, "2024-01-01T00:05:00Z"));
  auto r = test::run_command(bin + " run -c '" + cfg + "' --once 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> ids;
  for (const auto& rec : json_lines(dir / "records.jsonl")) ids.push_back(rec.at("order_id"));
  CHECK(ids == std::vector<std::string>{"o1", "o3", "o4"});
  const std::string q = test::read_file(dir / "quarantine.jsonl");
  CHECK(test::occurrences(q, "\"reason\":\"future_timestamp\"") == 1);
  CHECK(test::contains(q, "\"value\":\"2099-01-01T00:00:00Z\""));
  CHECK(test::contains(r.out, "an event stamped 2099-01-01T00:00:00Z is more than 300000 ms ahead"));
}

TEST_CASE("vigil run, ETL: a product table reloads within a second of changing, and a bad one keeps the last good") {
  test::temp_dir dir;
  const std::string cfg = orders_config(dir);
  test::write_file(dir / "products.csv", "product_id,category,unit_price\np1,books,10\n");
  test::write_file(dir / "orders.jsonl", "");
  const pid_t pid = test::spawn_process({bin, "run", "-c", cfg}, dir / "run.log");
  test::stop_at_exit stop{pid};
  int next = 0;
  auto send = [&] {
    ++next;
    std::ofstream(dir / "orders.jsonl", std::ios::app)
      << "{\"order_id\":\"o" << next << "\",\"user_id\":\"u\",\"event_type\":\"view\",\"product_id\":\"p1\",\"price\":1,"
      << "\"ts\":\"2024-01-01T00:00:00Z\"}\n";
  };
  auto last_category = [&]() -> std::string {
    auto recs = json_lines(dir / "records.jsonl");
    if (recs.size() < static_cast<size_t>(next)) return "";
    return recs.back().value("category", "(none)");
  };
  send();
  REQUIRE(test::wait_until([&] { return last_category() == "books"; }));
  test::write_file(dir / "products.csv.new", "product_id,category,unit_price\np1,comics,10\n");
  std::filesystem::rename(dir / "products.csv.new", dir / "products.csv");  // swapped whole, as an operator would
  // Events keep coming; within about a second they carry the new category.
  REQUIRE(test::wait_until([&] {
    send();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return last_category() == "comics";
  }));
  test::write_file(dir / "products.csv.new", "product_id,unit_price\np1,10\n");
  std::filesystem::rename(dir / "products.csv.new", dir / "products.csv");
  REQUIRE(test::wait_until([&] { return test::contains(test::read_file(dir / "run.log"), "keeping the table loaded before"); }));
  send();
  REQUIRE(test::wait_until([&] { return !last_category().empty(); }));
  CHECK(last_category() == "comics");
  CHECK(test::contains(test::read_file(dir / "run.log"),
                       "lookup products: " + dir / "products.csv" + ":1: the header has no column \"category\""));
}

TEST_CASE("check-config: a typo in a transform, filter, metric or rule names the file, line and key") {
  test::temp_dir dir;
  auto check = [&](const std::string& from, const std::string& to) {
    std::string cfg = test::read_file(std::string(VIGIL_SOURCE_DIR) + "/config/orders.toml");
    REQUIRE(test::contains(cfg, from));
    cfg = replace_all(cfg, from, to);
    test::write_file(dir / "bad.toml", cfg);
    return test::run_command(bin + " check-config -c '" + dir / "bad.toml" + "' 2>&1");
  };
  auto line_of = [&](const std::string& text) {
    const std::string cfg = test::read_file(dir / "bad.toml");
    return std::to_string(std::count(cfg.begin(), cfg.begin() + static_cast<long>(cfg.find(text)), '\n') + 1);
  };
  auto r = check("price * quantity * (1 - discount)", "price * quantty * (1 - discount)");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, dir / "bad.toml:" + line_of("quantty") + ":"));
  CHECK(test::contains(r.out, "transform[total].expr: unknown field 'quantty'"));
  r = check("revenue = \"sum(total)\", avg_basket", "revenue = \"sum(totl)\", avg_basket");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "window[shop_minute].metrics.revenue: unknown field 'totl'"));
  r = check("when = \"revenue < 0.6 * revenue_prev\"", "when = \"revenu < 0.6 * revenue_prev\"");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "rule[revenue_drop].when: unknown metric 'revenu'"));
  r = check("type = \"int\"", "type = \"integer\"");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "unknown value \"integer\" (expected string int float bool timestamp enum)"));
  r = check("when = \"event_type == \\\"purchase\\\"\"", "when = \"event_type = \\\"purchase\\\"\"");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "route[purchases].when: '=' is not a comparison: write '=='"));
  r = check("time_zone = \"UTC\"", "time_zone = \"Europe/Berln\"");
  CHECK(r.exit_code == 2);
  CHECK(test::contains(r.out, "transform[hour].time_zone: expected \"UTC\", an offset like \"+02:00\" or a zone name like "
                              "\"Europe/Berlin\", got \"Europe/Berln\""));
  CHECK(check("time_zone = \"UTC\"", "time_zone = \"Europe/Berlin\"").exit_code == 0);
}

TEST_CASE("YSB: config/ysb.toml counts views per campaign per 10 s, and the check says CORRECT, or DIFFER with the first difference") {
  test::temp_dir dir;
  const std::filesystem::path work = dir.path;
  // config/ysb.toml runs from the current directory, as documented.
  auto in_dir = [&](const std::string& cmd) { return test::run_command("cd '" + work.string() + "' && " + cmd + " 2>&1"); };
  REQUIRE(in_dir(bin + " gen events --kind ysb --no-pace --count 200000 --seed 5 --out-dir var/ysb").exit_code == 0);
  REQUIRE(std::filesystem::exists(work / "var/ysb/campaigns.csv"));
  CHECK(test::read_file((work / "var/ysb/campaigns.csv").string()).rfind("ad_id,campaign_id\n", 0) == 0);
  // Bad events on the way: quarantined, not counted, the check agrees.
  std::ofstream(work / "var/ysb/ad_events.jsonl", std::ios::app) << "{\"ad_id\":\"x\",\"event_type\":\"view\"}\nnot json\n";
  auto r = in_dir(bin + " run -c '" + std::string(VIGIL_SOURCE_DIR) + "/config/ysb.toml' --once");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto check = in_dir(bin + " gen events --kind ysb --out-dir var/ysb --check var/ysb/campaign_10s.jsonl");
  CHECK(check.exit_code == 0);
  CHECK(check.out.rfind("CORRECT\n", 0) == 0);
  CHECK(test::occurrences(test::read_file((work / "var/ysb/quarantine.jsonl").string()), "\n") == 2);
  // One window off by one: DIFFER, and which.
  std::string results = test::read_file((work / "var/ysb/campaign_10s.jsonl").string());
  const size_t at = results.find("\"views\":") + 8;
  results.insert(at, "1");
  test::write_file((work / "var/ysb/campaign_10s.jsonl").string(), results);
  check = in_dir(bin + " gen events --kind ysb --out-dir var/ysb --check var/ysb/campaign_10s.jsonl");
  CHECK(check.exit_code == 1);
  CHECK(check.out.rfind("DIFFER\n", 0) == 0);
  CHECK(test::contains(check.out, "views, got 1"));
}

TEST_CASE("vigil gen events is byte-deterministic for a seed, and differs for another") {
  test::temp_dir dir;
  auto make = [&](const std::string& sub, int seed) {
    std::filesystem::create_directories(dir.path / sub);
    auto r = test::run_command(bin + " gen events --kind orders --no-pace --count 5000 --seed " + std::to_string(seed)
                               + " --start 2024-01-01T00:00:00Z --inject bad,duplicates --out-dir '" + (dir.path / sub).string() + "' 2>&1");
    REQUIRE(r.exit_code == 0);
    return test::read_file((dir.path / sub / "orders.jsonl").string());
  };
  const auto a = make("a", 1), b = make("b", 1), c = make("c", 2);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(test::occurrences(a, "\n") >= 5000);
}
