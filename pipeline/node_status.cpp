#include "pipeline/node_status.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "metrics/dashboard_page.hpp"
#include "metrics/fleet_tally.hpp"
#include "metrics/http_endpoint.hpp"
#include "parse/timestamp.hpp"
#include "pipeline/node_counters.hpp"

namespace vigil {

namespace {

constexpr size_t series_seconds = 900;

} // namespace

node_status::node_status(std::string node, std::string role, std::shared_ptr<const node_counters> counters,
                         std::function<std::string()> unready, std::shared_ptr<const fleet_tally> fleet)
  : node_(std::move(node)), role_(std::move(role)), counters_(std::move(counters)), unready_(std::move(unready)),
    fleet_(std::move(fleet)) {
  thread_ = std::thread([this] { run(); });
}

node_status::~node_status() {
  stopping_ = true;
  thread_.join();
}

void node_status::run() {
  uint64_t last_events = 0, last_quarantined = 0;
  bool first = true;
  while (!stopping_) {
    uint64_t events = 0, quarantined = 0;
    for (const auto& t : counters_->sources->all()) {
      events += t->events.load();
      // What went to the quarantine: lines that did not parse, events a schema refused.
      quarantined += t->malformed.load();
      for (const auto& n : t->records.invalid) quarantined += n.load();
    }
    // An aggregator parses nothing: its rate is the events its agents' batches stand for.
    if (fleet_ && role_ == "aggregator")
      for (const auto& m : fleet_->all()) events += m->events.load();
    if (!first) {
      std::lock_guard<std::mutex> guard(lock_);
      series_.push_back({wall_clock_ms(), static_cast<double>(events - last_events),
                         static_cast<double>(quarantined - last_quarantined)});
      if (series_.size() > series_seconds) series_.pop_front();
    }
    sample_rates(first ? 0.0 : 1.0);
    first = false;
    last_events = events;
    last_quarantined = quarantined;
    for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void node_status::sample_rates(double seconds) {
  auto step = [seconds](rates& r, uint64_t in, uint64_t out, uint64_t busy_ns) {
    if (seconds > 0) {
      r.in_per_s = static_cast<double>(in - r.in) / seconds;
      r.out_per_s = static_cast<double>(out - r.out) / seconds;
      r.busy = static_cast<double>(busy_ns - r.busy_ns) / 1e9 / seconds;
    }
    r.in = in;
    r.out = out;
    r.busy_ns = busy_ns;
  };
  std::lock_guard<std::mutex> guard(lock_);
  for (const auto& t : counters_->stages->all()) step(stage_rates_[t->stage], t->items_in, t->items_out, t->busy_ns);
  for (const auto& [name, st] : counters_->databases) step(sink_rates_[name], st->rows_written, st->rows_rejected, 0);
  if (fleet_)
    for (const auto& m : fleet_->all()) {
      step(member_rates_[m->name], m->batches, m->bytes, 0);
      step(member_event_rates_[m->name], m->events, 0, 0);
    }
}

std::string node_status::alerts_json() const {
  std::string out = "[";
  bool comma = false;
  for (const auto& a : counters_->alerts->firing()) {
    if (comma) out += ',';
    out += to_json(a);
    comma = true;
  }
  return out + "]";
}

std::string node_status::status_json() const {
  using nlohmann::json;
  const std::string why = unready_();
  json j = {{"node", node_},
            {"role", role_},
            {"time", format_rfc3339_utc(wall_clock_ms())},
            {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
            {"ready", why.empty()},
            {"not_ready_reason", why}};
  json sources = json::array();
  for (const auto& t : counters_->sources->all())
    sources.push_back({{"name", t->source},
                       {"events", t->events.load()},
                       {"bytes", t->bytes.load()},
                       {"malformed", t->malformed.load()},
                       {"duplicates", t->duplicates.load()},
                       {"lag_bytes", t->lag_bytes.load()},
                       {"problem", t->access_problem()}});
  j["sources"] = std::move(sources);
  const int64_t last = counters_->checkpoints->last_written_ms.load();
  j["checkpoints"] = {{"written", counters_->checkpoints->written.load()},
                      {"failed", counters_->checkpoints->failed.load()},
                      {"last_age_s", last > 0 ? (wall_clock_ms() - last) / 1000.0 : -1.0},
                      {"last_duration_s", counters_->checkpoints->last_duration_ms.load() / 1000.0},
                      {"size_bytes", counters_->checkpoints->last_bytes.load()}};
  // How far behind its input the node reads: bytes not read yet, and the
  // stalest source's newest event behind now (-1: no event yet).
  uint64_t lag_bytes = 0;
  int64_t stalest = INT64_MAX;
  for (const auto& t : counters_->sources->all()) {
    lag_bytes += t->lag_bytes.load();
    stalest = std::min(stalest, t->newest_event_ms.load());
  }
  if (fleet_ && role_ == "aggregator")
    for (const auto& m : fleet_->all())
      if (m->reports_lag) {
        lag_bytes += m->lag_bytes.load();
        stalest = std::min(stalest, m->newest_event_ms.load());
      }
  j["lag_bytes"] = lag_bytes;
  j["event_lag_s"] = stalest == INT64_MAX || stalest == INT64_MIN ? -1.0
                                                                  : std::max(0.0, (wall_clock_ms() - stalest) / 1000.0);
  j["alerts"] = json::parse(alerts_json());
  json stages = json::array(), sinks = json::array(), windows = json::array();
  {
    std::lock_guard<std::mutex> guard(lock_);
    double out_per_s = 0;  // what the sinks took: lines, rows, results
    for (const auto& t : counters_->stages->all()) {
      const auto it = stage_rates_.find(t->stage);
      const rates r = it == stage_rates_.end() ? rates{} : it->second;
      if (t->stage.rfind("sink:", 0) == 0) out_per_s += r.in_per_s;
      stages.push_back({{"name", t->stage}, {"in_per_s", r.in_per_s}, {"out_per_s", r.out_per_s}, {"busy", r.busy},
                        {"mailbox", t->mailbox.load()}});
    }
    j["out_per_s"] = out_per_s;
    for (const auto& [name, st] : counters_->databases) {
      const auto it = sink_rates_.find(name);
      const rates r = it == sink_rates_.end() ? rates{} : it->second;
      const int64_t since = st->failing_since_ms;
      sinks.push_back({{"name", name}, {"kind", "database"}, {"written", st->rows_written.load()},
                       {"per_s", r.in_per_s}, {"rejected", st->rows_rejected.load()}, {"pending", st->pending.load()},
                       {"retries", st->failed_attempts.load()},
                       {"waiting_s", since == 0 ? 0.0 : (wall_clock_ms() - since) / 1000.0}});
    }
  }
  for (const auto& [name, st] : counters_->sinks) {
    const int64_t oldest = st->oldest_ms;
    sinks.push_back({{"name", name}, {"kind", "http"}, {"written", st->delivered.load()}, {"per_s", 0.0},
                     {"rejected", st->dropped.load()}, {"pending", st->queued.load()}, {"retries", st->failed_attempts.load()},
                     {"waiting_s", oldest == 0 ? 0.0 : (wall_clock_ms() - oldest) / 1000.0}});
  }
  for (const auto& w : counters_->windows) {
    // The closed instances: a series per metric, or the top groups of the newest.
    const auto closed = w->closed();
    json points = json::array(), tops = json::array();
    for (const auto& v : closed)
      if (!w->keyed) {
        json p = json::array({v.start_ms});
        for (double x : v.metrics) p.push_back(x);
        points.push_back(std::move(p));
      }
    if (!closed.empty())
      for (const auto& ranking : closed.back().tops) {
        json groups = json::array();
        for (const auto& [key, value] : ranking) groups.push_back({key, value});
        tops.push_back(std::move(groups));
      }
    // "top": by the first metric; "tops": by each, in "metrics" order.
    json top = tops.empty() ? json::array() : tops.front();
    windows.push_back({{"name", w->window}, {"open_groups", w->open_groups.load()},
                       {"watermark", w->watermark_ms.load() > 0 ? format_rfc3339_utc(w->watermark_ms.load()) : ""},
                       {"late", w->late_events.load()}, {"dropped_groups", w->dropped_groups.load()},
                       {"keyed", w->keyed}, {"metrics", w->names}, {"points", std::move(points)},
                       {"top", std::move(top)}, {"tops", std::move(tops)},
                       {"last_closed", closed.empty() ? "" : format_rfc3339_utc(closed.back().start_ms)}});
  }
  if (fleet_) {
    json fleet = json::array();
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto& m : fleet_->all()) {
      const auto it = member_rates_.find(m->name);
      const rates r = it == member_rates_.end() ? rates{} : it->second;
      const auto e = member_event_rates_.find(m->name);
      const int64_t last = m->last_batch_ms, newest = m->newest_event_ms;
      json member = {{"name", m->name}, {"up", m->up.load()}, {"batches", m->batches.load()},
                     {"bytes", m->bytes.load()}, {"events", m->events.load()}, {"batches_per_s", r.in_per_s},
                     {"bytes_per_s", r.out_per_s},
                     {"events_per_s", e == member_event_rates_.end() ? 0.0 : e->second.in_per_s},
                     {"last_batch_age_s", last == 0 ? -1.0 : (wall_clock_ms() - last) / 1000.0}};
      // An agent's read lag (null: it has not reported any; -1 s: no event parsed yet).
      if (m->reports_lag) {
        member["lag_bytes"] = m->lag_bytes.load();
        member["event_lag_s"] = newest == INT64_MIN ? -1.0 : std::max(0.0, (wall_clock_ms() - newest) / 1000.0);
      } else {
        member["lag_bytes"] = nullptr;
        member["event_lag_s"] = nullptr;
      }
      fleet.push_back(std::move(member));
    }
    j["fleet"] = std::move(fleet);
  }
  j["stages"] = std::move(stages);
  j["sinks"] = std::move(sinks);
  j["windows"] = std::move(windows);
  json series = json::array();
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto& s : series_) series.push_back({s.time_ms, s.events_per_s, s.quarantined_per_s});
    j["events_per_s"] = series_.empty() ? 0.0 : series_.back().events_per_s;
    j["quarantined_per_s"] = series_.empty() ? 0.0 : series_.back().quarantined_per_s;
  }
  j["series"] = std::move(series);  // [[time_ms, events/s, malformed/s], ...]
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<http_page> status_pages(const node_status& status) {
  const node_status* s = &status;
  return {
    {"/", "text/html; charset=utf-8", [s] { return dashboard_page(s->status_json()); }, false},
    {"/api/v1/status", "application/json", [s] { return s->status_json(); }, false},
    {"/api/v1/alerts", "application/json", [s] { return s->alerts_json(); }, false},
    {"/api/v1/events", "text/event-stream", [s] { return s->status_json(); }, true},
  };
}

} // namespace vigil
