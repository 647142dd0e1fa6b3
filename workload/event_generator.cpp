#include "workload/event_generator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <map>
#include <tuple>

#include <simdjson.h>

#include "csv/csv.hpp"
#include "hash/string_map.hpp"
#include "parse/timestamp.hpp"

namespace vigil {

namespace {

constexpr std::pair<std::string_view, event_kind> kind_names[] = {
  {"orders", event_kind::orders}, {"clicks", event_kind::clicks}, {"ysb", event_kind::ysb}};
constexpr std::pair<std::string_view, event_incident> incident_names[] = {
  {"revenue_drop", event_incident::revenue_drop}, {"payment_failures", event_incident::payment_failures},
  {"schema_drift", event_incident::schema_drift}, {"duplicates", event_incident::duplicates},
  {"late", event_incident::late},                 {"bad", event_incident::bad}};

constexpr const char* categories[] = {"books", "games", "music", "garden", "kitchen", "toys", "sports", "tools"};
constexpr const char* countries[] = {"de", "fr", "us", "gb", "es", "it", "nl", "pl"};
constexpr const char* payments[] = {"card", "paypal", "invoice", "applepay"};
constexpr const char* devices[] = {"desktop", "mobile", "tablet"};
constexpr const char* ad_types[] = {"banner", "modal", "sponsored-search", "mail", "mobile"};
constexpr const char* ysb_event_types[] = {"view", "click", "purchase"};
constexpr size_t products = 200;

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Product prices: whole cents, so sums are exact in any order.
double unit_price(size_t product) { return static_cast<double>(199 + (mix(product) % 9800)) / 100.0; }

std::string product_id(size_t p) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "p%03zu", p + 1);
  return buf;
}

} // namespace

std::optional<event_kind> event_kind_from_string(std::string_view name) noexcept {
  for (const auto& [n, k] : kind_names)
    if (n == name) return k;
  return std::nullopt;
}

std::string_view to_string(event_incident i) noexcept {
  for (const auto& [n, k] : incident_names)
    if (k == i) return n;
  return "unknown";
}

std::optional<event_incident> event_incident_from_string(std::string_view name) noexcept {
  for (const auto& [n, k] : incident_names)
    if (n == name) return k;
  return std::nullopt;
}

event_generator::event_generator(event_workload_options opts) : opts_(std::move(opts)), state_(mix(opts_.seed)) {
  total_ = opts_.count > 0 ? opts_.count
                           : static_cast<uint64_t>(std::llround(opts_.rate * static_cast<double>(opts_.duration_ms) / 1000.0));
  if (opts_.kind == event_kind::ysb) {
    for (uint64_t c = 0; c < 100; ++c) campaigns_.push_back(uuid(opts_.seed, 1000 + c));
    for (uint64_t a = 0; a < 1000; ++a) ads_.push_back(uuid(opts_.seed, 100000 + a));
  }
  slices_ = make_slices();
}

uint64_t event_generator::random() {
  state_ = mix(state_);
  return state_;
}

std::string event_generator::uuid(uint64_t a, uint64_t b) const {
  const uint64_t hi = mix(a * 0x100000001b3ULL + b), lo = mix(hi ^ b);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xfff),
                static_cast<unsigned>(lo >> 52), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

int64_t event_generator::time_of(uint64_t i) const {
  return opts_.start_ms + static_cast<int64_t>(static_cast<double>(i) * 1000.0 / opts_.rate);
}

int64_t event_generator::end_ms() const noexcept { return time_of(total_); }

std::vector<event_generator::slice> event_generator::make_slices() const {
  std::vector<slice> out;
  const double span = static_cast<double>(end_ms() - opts_.start_ms);
  const double n = static_cast<double>(opts_.incidents.size());
  for (size_t i = 0; i < opts_.incidents.size(); ++i) {
    // The middle half of its share of the stream: quiet time around it.
    const double from = (static_cast<double>(i) + 0.25) / n, to = (static_cast<double>(i) + 0.75) / n;
    out.push_back({opts_.incidents[i], opts_.start_ms + static_cast<int64_t>(span * from),
                   opts_.start_ms + static_cast<int64_t>(span * to)});
  }
  return out;
}

bool event_generator::active(event_incident i, int64_t t) const {
  for (const auto& s : slices_)
    if (s.incident == i && t >= s.start_ms && t < s.end_ms) return true;
  return false;
}

std::string event_generator::table_name() const {
  switch (opts_.kind) {
    case event_kind::orders: return "products.csv";
    case event_kind::ysb: return "campaigns.csv";
    case event_kind::clicks: return "";
  }
  return "";
}

std::string event_generator::events_name() const {
  switch (opts_.kind) {
    case event_kind::orders: return "orders.jsonl";
    case event_kind::ysb: return "ad_events.jsonl";
    case event_kind::clicks: return "clicks.jsonl";
  }
  return "events.jsonl";
}

std::string event_generator::table_csv() const {
  std::string out;
  if (opts_.kind == event_kind::orders) {
    out = "product_id,category,unit_price\n";
    for (size_t p = 0; p < products; ++p) {
      char price[32];
      std::snprintf(price, sizeof price, "%.2f", unit_price(p));
      out += product_id(p) + "," + categories[mix(p * 7) % std::size(categories)] + "," + price + "\n";
    }
  } else if (opts_.kind == event_kind::ysb) {
    out = "ad_id,campaign_id\n";
    for (size_t a = 0; a < ads_.size(); ++a) out += ads_[a] + "," + campaigns_[a / 10] + "\n";
  }
  return out;
}

void event_generator::order_event(int64_t t, std::string& out) {
  const bool drift = active(event_incident::schema_drift, t);
  const uint64_t r = below(1000);
  const uint64_t purchase_per_mille = active(event_incident::revenue_drop, t) ? 20 : 100;
  const char* type = r < purchase_per_mille ? "purchase" : r < purchase_per_mille + 200 ? "cart" : "view";
  const size_t product = static_cast<size_t>(below(products));
  const uint64_t quantity = 1 + below(4);
  const uint64_t user = below(5000);
  const bool failed_payment = below(1000) < (active(event_incident::payment_failures, t) ? 400 : 30);
  int64_t ts = t;
  if (active(event_incident::late, t) && below(100) < 2) ts -= 5 * 60 * 1000;
  // Only a purchase is paid for.
  const std::string payment = type[0] == 'p' ? std::string("\"payment\":\"") + payments[below(std::size(payments))]
                                                 + "\",\"payment_status\":\"" + (failed_payment ? "failed" : "ok") + "\","
                                           : std::string();
  char buf[512];
  int n = std::snprintf(buf, sizeof buf,
                        "{\"order_id\":\"o-%llu\",\"user_id\":\"u%05llu\",\"event_type\":\"%s\",\"product_id\":\"%s\","
                        "\"quantity\":%s%llu%s,\"price\":%.2f,\"discount\":%.2f,%s"
                        "\"country\":\"%s\",\"ts\":\"%s\"%s}\n",
                        static_cast<unsigned long long>(next_ + 1), static_cast<unsigned long long>(user), type,
                        product_id(product).c_str(), drift ? "\"" : "", static_cast<unsigned long long>(quantity),
                        drift ? "\"" : "", unit_price(product), below(10) == 0 ? 0.1 : 0.0, payment.c_str(),
                        countries[user % std::size(countries)], format_rfc3339_utc(ts).c_str(),
                        drift ? ",\"coupon\":\"SAVE10\"" : "");
  std::string line(buf, static_cast<size_t>(n));
  if (active(event_incident::bad, t) && static_cast<double>(below(1000000)) < opts_.bad_rate * 1e6) {
    switch (below(3)) {
      case 0: line = line.substr(0, line.size() / 2) + "\n"; break;  // cut short
      case 1: {
        auto q = line.find("\"quantity\":");
        line.replace(q, line.find(',', q) - q, "\"quantity\":-5");
        break;
      }
      default: {
        auto p = line.find("\"price\":");
        line.replace(p, line.find(',', p) - p, "\"price\":\"n/a\"");
      }
    }
  }
  out += line;
  if (active(event_incident::duplicates, t) && below(100) < 5) out += line;  // resent, same order_id
}

void event_generator::click_event(int64_t t, std::string& out) {
  char buf[320];
  const uint64_t user = below(20000);
  int n = std::snprintf(buf, sizeof buf,
                        "{\"click_id\":\"c-%llu\",\"user_id\":\"u%05llu\",\"page\":\"/p/%llu\",\"referrer\":\"%s\","
                        "\"device\":\"%s\",\"ts\":\"%s\"}\n",
                        static_cast<unsigned long long>(next_ + 1), static_cast<unsigned long long>(user),
                        static_cast<unsigned long long>(below(500)), below(3) == 0 ? "search" : "direct",
                        devices[below(std::size(devices))], format_rfc3339_utc(t).c_str());
  out.append(buf, static_cast<size_t>(n));
}

void event_generator::ysb_event(int64_t t, std::string& out) {
  char buf[320];
  const uint64_t ip = random();
  int n = std::snprintf(buf, sizeof buf,
                        "{\"user_id\":\"%s\",\"page_id\":\"%s\",\"ad_id\":\"%s\",\"ad_type\":\"%s\",\"event_type\":\"%s\","
                        "\"event_time\":\"%lld\",\"ip_address\":\"%u.%u.%u.%u\"}\n",
                        uuid(opts_.seed, below(100)).c_str(), uuid(opts_.seed, 500 + below(100)).c_str(),
                        ads_[below(ads_.size())].c_str(), ad_types[below(std::size(ad_types))],
                        ysb_event_types[below(std::size(ysb_event_types))], static_cast<long long>(t),
                        static_cast<unsigned>(ip >> 56), static_cast<unsigned>((ip >> 48) & 0xff),
                        static_cast<unsigned>((ip >> 40) & 0xff), static_cast<unsigned>((ip >> 32) & 0xff));
  out.append(buf, static_cast<size_t>(n));
}

size_t event_generator::generate_until(int64_t until_ms, std::string& out) {
  size_t n = 0;
  while (next_ < total_ && time_of(next_) < until_ms) {
    const int64_t t = time_of(next_);
    switch (opts_.kind) {
      case event_kind::orders: order_event(t, out); break;
      case event_kind::clicks: click_event(t, out); break;
      case event_kind::ysb: ysb_event(t, out); break;
    }
    ++next_;
    ++n;
  }
  return n;
}

namespace {

/// The views per (campaign, window start) the events make, or an error.
std::optional<ysb_verdict> ysb_expected(const std::string& events_path, const std::string& campaigns_path,
                                        ysb_counts& expected, uint64_t& events_read) {
  std::ifstream campaigns(campaigns_path), events(events_path);
  if (!campaigns) return ysb_verdict{false, "cannot read " + campaigns_path};
  if (!events) return ysb_verdict{false, "cannot read " + events_path};
  string_map<std::string> campaign_of;
  std::string line;
  bool header = true;
  while (std::getline(campaigns, line)) {
    if (header) {
      header = false;
      continue;
    }
    auto cols = split_csv(line);
    if (cols.size() >= 2) campaign_of[cols[0]] = cols[1];
  }
  simdjson::ondemand::parser parser;
  uint64_t read = 0, skipped = 0;
  while (std::getline(events, line)) {
    ++read;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    std::string_view ad, type, time;
    if (parser.iterate(padded).get(doc) || doc["ad_id"].get_string().get(ad) || doc["event_type"].get_string().get(type)
        || doc["event_time"].get_string().get(time)) {
      ++skipped;  // quarantined by the job as well
      continue;
    }
    if (type != "view") continue;
    auto c = campaign_of.find(ad);
    if (c == campaign_of.end()) continue;
    const int64_t t = std::stoll(std::string(time));
    ++expected[{c->second, floor_div(t, 10000) * 10000}];
  }
  events_read = read - skipped;
  return std::nullopt;
}

} // namespace

ysb_verdict ysb_compare(const ysb_counts& expected, const ysb_counts& actual, uint64_t events) {
  for (auto e = expected.begin(), a = actual.begin(); e != expected.end() || a != actual.end();) {
    if (a == actual.end() || (e != expected.end() && e->first < a->first)) {
      return ysb_verdict{false, "campaign " + e->first.first + " window " + format_rfc3339_utc(e->first.second) + ": expected "
             + std::to_string(e->second) + " views, no result"};
    }
    if (e == expected.end() || a->first < e->first) {
      return ysb_verdict{false, "campaign " + a->first.first + " window " + format_rfc3339_utc(a->first.second) + ": "
             + std::to_string(a->second) + " views in the results, none in the events"};
    }
    if (e->second != a->second)
      return ysb_verdict{false, "campaign " + e->first.first + " window " + format_rfc3339_utc(e->first.second) + ": expected "
             + std::to_string(e->second) + " views, got " + std::to_string(a->second)};
    ++e;
    ++a;
  }
  return ysb_verdict{true, std::to_string(actual.size()) + " campaign windows, " + std::to_string(events) + " events"};
}

ysb_verdict ysb_check(const std::string& events_path, const std::string& campaigns_path, const std::string& results_path) {
  ysb_counts expected, actual;
  uint64_t events = 0;
  if (auto failed = ysb_expected(events_path, campaigns_path, expected, events)) return *failed;
  std::ifstream results(results_path);
  if (!results) return ysb_verdict{false, "cannot read " + results_path};
  simdjson::ondemand::parser parser;
  std::string line;
  uint64_t lines = 0;
  while (std::getline(results, line)) {
    ++lines;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    std::string_view start, campaign;
    int64_t views;
    if (parser.iterate(padded).get(doc) || doc["window"]["start"].get_string().get(start)
        || doc["group"]["campaign_id"].get_string().get(campaign) || doc["metrics"]["views"].get_int64().get(views))
      return ysb_verdict{false, results_path + ":" + std::to_string(lines) + ": not a campaign window result"};
    log_time lt;
    if (!parse_rfc3339_time(start, lt)) return ysb_verdict{false, results_path + ":" + std::to_string(lines) + ": bad window start"};
    auto [it, fresh] = actual.emplace(std::make_pair(std::string(campaign), lt.utc_ms), static_cast<uint64_t>(views));
    if (!fresh)
      return ysb_verdict{false, "campaign " + std::string(campaign) + " window " + std::string(start) + " written twice ("
             + results_path + ":" + std::to_string(lines) + ")"};
  }
  return ysb_compare(expected, actual, events);
}

ysb_verdict ysb_check_counts(const std::string& events_path, const std::string& campaigns_path, const ysb_counts& actual) {
  ysb_counts expected;
  uint64_t events = 0;
  if (auto failed = ysb_expected(events_path, campaigns_path, expected, events)) return *failed;
  return ysb_compare(expected, actual, events);
}

} // namespace vigil
