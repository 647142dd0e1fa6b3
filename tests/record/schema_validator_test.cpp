#include <catch2/catch.hpp>

#include "record/record_format.hpp"
#include "record/schema_validator.hpp"

using namespace vigil;

namespace {

schema_field field(std::string name, field_type type) {
  schema_field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

struct harness {
  vigil_config cfg;
  record_layout layout;
  std::unique_ptr<schema_validator> validator;
  event_batch batch;
  std::vector<field_value> row;
  record_info info;
  record_problem why;

  explicit harness(schema_config schema) {
    cfg.schemas.push_back(std::move(schema));
    layout = record_layout::of(cfg);
    validator = std::make_unique<schema_validator>(cfg.schemas[0], layout);
  }
  bool take(const std::string& line) {
    batch.clear();
    batch.text = line;
    row.assign(layout.size(), field_value{});
    info = {};
    why = {};
    return validator->validate(batch.text, 0, batch, row.data(), info, why);
  }
  const field_value& at(const std::string& name) { return row[*layout.index_of(name)]; }
  std::string text(const std::string& name) {
    std::string scratch;
    return std::string(value_text(at(name), batch.text, scratch));
  }
  std::string json() {
    batch.records.width = static_cast<uint32_t>(layout.size());
    batch.records.values = row;
    batch.records.rows = {info};
    return record_json(layout, batch, 0);
  }
};

schema_config orders() {
  schema_config s;
  s.name = "order";
  s.time_field = "ts";
  auto id = field("order_id", field_type::string);
  id.required = true;
  auto qty = field("quantity", field_type::integer);
  qty.has_min = true;
  qty.min = 1;
  qty.has_max = true;
  qty.max = 100;
  auto price = field("price", field_type::number);
  price.coerce = true;
  auto paid = field("paid", field_type::boolean);
  paid.coerce = true;
  auto type = field("event_type", field_type::enumeration);
  type.values = {"view", "purchase"};
  type.trim = true;
  type.letter_case = text_case::lower;
  auto country = field("country", field_type::string);
  country.max_length = 2;
  country.has_default = true;
  country.default_text = "de";
  auto ts = field("ts", field_type::timestamp);
  ts.coerce = true;
  s.fields = {id, qty, price, paid, type, country, ts};
  return s;
}

} // namespace

TEST_CASE("schema: a valid event becomes a typed record, cleaned and coerced") {
  harness h(orders());
  REQUIRE(h.take(R"({"order_id":"o1","quantity":3,"price":"12.50","paid":"true","event_type":" PURCHASE ","ts":"2024-01-01T10:00:00+02:00"})"));
  CHECK(h.text("order_id") == "o1");
  CHECK(h.at("quantity").kind == value_kind::integer);
  CHECK(h.at("quantity").bits == 3);
  CHECK(h.at("price").kind == value_kind::number);
  CHECK(h.at("price").number() == 12.5);
  CHECK(h.at("paid").kind == value_kind::boolean);
  CHECK(h.at("paid").bits == 1);
  CHECK(h.text("event_type") == "purchase");
  CHECK(h.text("country") == "de");  // the default
  CHECK(h.at("ts").kind == value_kind::time);
  CHECK(h.info.time_ms == 1704096000000);  // 08:00 UTC
  const auto& q = h.validator->quality();
  CHECK(q[2].coerced == 1);    // price
  CHECK(q[3].coerced == 1);    // paid
  CHECK(q[5].defaulted == 1);  // country
}

TEST_CASE("schema: timestamps as RFC 3339, epoch seconds, epoch milliseconds, and epoch strings with coerce") {
  harness h(orders());
  REQUIRE(h.take(R"({"order_id":"a","ts":1704067200})"));
  CHECK(h.info.time_ms == 1704067200000);
  REQUIRE(h.take(R"({"order_id":"a","ts":1704067200123})"));
  CHECK(h.info.time_ms == 1704067200123);
  REQUIRE(h.take(R"({"order_id":"a","ts":"1704067200123"})"));
  CHECK(h.info.time_ms == 1704067200123);
  REQUIRE(h.take(R"({"order_id":"a"})"));
  CHECK(h.info.time_ms == INT64_MIN);  // no time: the pipeline takes the arrival time
}

TEST_CASE("schema: every reason an event is quarantined, with its field and value") {
  harness h(orders());
  auto rejected = [&](const std::string& line, record_error reason, const std::string& field, const std::string& value) {
    INFO(line);
    CHECK_FALSE(h.take(line));
    CHECK(h.why.reason == reason);
    CHECK(h.why.field == field);
    CHECK(h.why.value == value);
  };
  rejected(R"({"quantity":1})", record_error::missing_field, "order_id", "");
  rejected(R"({"order_id":"o","order_id2":1,"quantity":"x"})", record_error::bad_type, "quantity", "\"x\"");
  rejected(R"({"order_id":"o","quantity":0})", record_error::out_of_range, "quantity", "0");
  rejected(R"({"order_id":"o","quantity":101})", record_error::out_of_range, "quantity", "101");
  rejected(R"({"order_id":"o","quantity":1.5})", record_error::bad_type, "quantity", "1.5");
  rejected(R"({"order_id":"o","price":"cheap"})", record_error::bad_type, "price", "cheap");
  rejected(R"({"order_id":"o","event_type":"refund"})", record_error::not_in_enum, "event_type", "refund");
  rejected(R"({"order_id":"o","country":"deu"})", record_error::too_long, "country", "deu");
  rejected(R"({"order_id":7})", record_error::bad_type, "order_id", "7");  // no coerce: a number is not a string
  rejected(R"({"order_id":"o","paid":"maybe"})", record_error::bad_type, "paid", "maybe");
  rejected(R"({"order_id":"o","ts":"yesterday"})", record_error::bad_type, "ts", "yesterday");
  rejected(R"({"order_id":"o","quantity":{"n":1}})", record_error::bad_type, "quantity", "{");
  rejected(R"({"order_id":"o",)", record_error::bad_json, "", "malformed JSON object (cut short?)");
  rejected(R"([1,2])", record_error::bad_json, "", "not a JSON object");
  rejected(R"(not json)", record_error::bad_json, "", "not a JSON object");
  const auto& q = h.validator->quality();
  CHECK(q[0].invalid == 2);  // order_id
  CHECK(q[1].invalid == 5);  // quantity
}

TEST_CASE("schema: null is absent, and an absent optional field stays null") {
  harness h(orders());
  REQUIRE(h.take(R"({"order_id":"o","quantity":null,"price":null})"));
  CHECK(h.at("quantity").is_null());
  CHECK(h.at("price").is_null());
  CHECK(h.validator->quality()[1].nulls == 1);
  CHECK_FALSE(h.take(R"({"order_id":null})"));
  CHECK(h.why.reason == record_error::missing_field);
}

TEST_CASE("schema: unknown fields (drift) are kept as written, dropped or quarantined, as configured") {
  schema_config s = orders();
  {
    harness keep(s);
    REQUIRE(keep.take(R"({"order_id":"o","coupon":"SAVE10","tags":["a","b"],"meta":{"x":1},"n":2.5,"ok":true})"));
    CHECK(keep.json() == R"({"order_id":"o","country":"de","coupon":"SAVE10","tags":["a","b"],"meta":{"x":1},"n":2.5,"ok":true})");
  }
  s.extra = extra_fields::drop;
  {
    harness drop(s);
    REQUIRE(drop.take(R"({"order_id":"o","coupon":"SAVE10"})"));
    CHECK(drop.json() == R"({"order_id":"o","country":"de"})");
  }
  s.extra = extra_fields::quarantine;
  {
    harness strict(s);
    CHECK_FALSE(strict.take(R"({"order_id":"o","coupon":"SAVE10"})"));
    CHECK(strict.why.reason == record_error::unknown_field);
    CHECK(strict.why.field == "coupon");
    CHECK(strict.why.value == "\"SAVE10\"");
  }
}

TEST_CASE("schema: strings with escapes are unescaped, and records write them back as JSON") {
  harness h(orders());
  REQUIRE(h.take(R"({"order_id":"o\"1\u00e9\n"})"));
  CHECK(h.text("order_id") == "o\"1\xc3\xa9\n");
  CHECK(h.json() == "{\"order_id\":\"o\\\"1\xc3\xa9\\n\",\"country\":\"de\"}");
}
