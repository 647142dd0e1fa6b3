#include "window/window_engine.hpp"

#include "window/group_overflow.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <tuple>

#include "hash/xxh3.hpp"
#include "json/json_text.hpp"
#include "parse/timestamp.hpp"
#include "record/record_format.hpp"
#include "enrich/route_template.hpp"
#include "rules/metric_names.hpp"
#include "state/state_codec.hpp"

namespace vigil {

namespace {

// Stable hashes: distinct counters built from them can be checkpointed and
// merged across nodes.
uint64_t hash_of(std::string_view a) { return xxh3(a); }
uint64_t hash_of(std::string_view a, std::string_view b) { return xxh3(b, xxh3(a)); }

// Attacks seen in the request itself (the `probes` metric); scanner agents
// are who sends them, not what is sent.
constexpr signature_mask probe_classes = payload_mask;

} // namespace

void window_event::prepare() {
  prepared = true;
  if (record) return;  // records hash nothing up front
  visitor_hash = hash_of(ip, user_agent);
  path_hash = hash_of(path);
  if (request_time_us >= 0) latency_bucket = quantile_sketch::bucket_of(static_cast<double>(request_time_us));
  prepared = true;
}

void window_metrics::declare(std::shared_ptr<const metric_plan> plan) {
  if (!plan) {
    declared_.reset();
    return;
  }
  auto& d = declared_.get();
  d.values = declared_values(*plan);
  d.plan = std::move(plan);
}

void window_metrics::add(const window_event& e) {
  counters_.add(requests_, 1);
  if (auto* d = declared_.find()) {
    if (e.record) {
      thread_local expr::arena scratch;
      d->values.add(*d->plan, e.record, e.record_meta, e.record_text, scratch);
    }
    return;
  }
  counters_.add(bytes_, e.bytes);
  const bool is_static = (e.classes & mask_of(signature_class::static_file)) != 0;
  counters_.add(page_views_, !is_static && e.status < 400);
  counters_.add(probes_, (e.classes & probe_classes) != 0);
  counters_.add(bots_, (e.classes & mask_of(signature_class::bot)) != 0);
  if (e.status >= 100 && e.status < 600) counters_.add(status_1xx_ + e.status / 100 - 1, 1);
  counters_.add(status_401_, e.status == 401);
  counters_.add(status_403_, e.status == 403);
  counters_.add(status_404_, e.status == 404);
  counters_.add(auth_failures_,
                (e.status == 401 || e.status == 403) && (e.classes & mask_of(signature_class::auth)) != 0);
  visitors_.add(e.visitor_hash);
  paths_.add(e.path_hash);
  if (e.request_time_us >= 0) latency_.get().add_to_bucket(e.latency_bucket, static_cast<double>(e.request_time_us));
}

void window_metrics::merge(const window_metrics& o) {
  counters_.add(requests_, o.counters_[requests_]);
  if (declared_.find() || o.declared_.find()) {
    auto& d = declared_.get();
    if (const auto* od = o.declared_.find()) {
      if (!d.plan) d.plan = od->plan;
      d.values.merge(od->values);
    }
    return;
  }
  for (size_t i = page_views_; i < counter_count_; ++i) counters_.add(i, o.counters_[i]);
  visitors_.merge(o.visitors_);
  paths_.merge(o.paths_);
  if (const auto* l = o.latency_.find()) latency_.get().merge(*l);
}

void window_metrics::save(state_writer& w) const {
  // As when each was a u64 member: 5 counters, the 6 status classes from
  // 0xx (always 0) to 5xx, then 4.
  for (size_t i = 0; i < counter_count_; ++i) {
    if (i == status_1xx_) w.u64(0);
    w.u64(counters_[i]);
  }
  visitors_.save(w);
  paths_.save(w);
  // A group without request times saves an empty sketch, as it did when
  // every group had one: the checkpoint format is unchanged.
  static const quantile_sketch no_latency;
  (latency_.find() ? *latency_.find() : no_latency).save(w);
  const auto* d = declared_.find();
  w.boolean(d && d->plan);
  if (d && d->plan) d->values.save(w);
}

void window_metrics::restore(state_reader& r) {
  for (size_t i = 0; i < counter_count_; ++i) {
    if (i == status_1xx_) r.u64();  // the 0xx class, never counted
    counters_.set(i, r.u64());
  }
  visitors_.restore(r);
  paths_.restore(r);
  quantile_sketch latency;
  latency.restore(r);
  if (latency.count() > 0) latency_.get() = std::move(latency);
  else latency_.reset();
  if (r.boolean()) declared_.get().values.restore(r);
}

std::optional<double> window_metrics::value(window_metric m) const {
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  const double req = d(counters_[requests_]);
  switch (m) {
    case window_metric::requests: return req;
    case window_metric::page_views: return d(counters_[page_views_]);
    case window_metric::bytes: return d(counters_[bytes_]);
    case window_metric::visitors: return d(visitors_.count());
    case window_metric::status_2xx: return d(counters_[status_2xx_]);
    case window_metric::status_3xx: return d(counters_[status_3xx_]);
    case window_metric::status_4xx: return d(counters_[status_4xx_]);
    case window_metric::status_5xx: return d(counters_[status_5xx_]);
    case window_metric::status_401: return d(counters_[status_401_]);
    case window_metric::status_403: return d(counters_[status_403_]);
    case window_metric::status_404: return d(counters_[status_404_]);
    case window_metric::error_rate: return req > 0 ? d(counters_[status_5xx_]) / req : 0.0;
    case window_metric::client_error_rate: return req > 0 ? d(counters_[status_4xx_]) / req : 0.0;
    case window_metric::auth_failures: return d(counters_[auth_failures_]);
    case window_metric::probes: return d(counters_[probes_]);
    case window_metric::bots: return d(counters_[bots_]);
    case window_metric::distinct_paths: return d(paths_.count());
    case window_metric::latency_p50:
    case window_metric::latency_p90:
    case window_metric::latency_p95:
    case window_metric::latency_p99:
    case window_metric::latency_max:
      break;
  }
  const quantile_sketch* latency = latency_.find();
  if (!latency || latency->count() == 0) return std::nullopt;
  switch (m) {
    case window_metric::latency_p50: return std::round(latency->quantile(0.50));
    case window_metric::latency_p90: return std::round(latency->quantile(0.90));
    case window_metric::latency_p95: return std::round(latency->quantile(0.95));
    case window_metric::latency_p99: return std::round(latency->quantile(0.99));
    default: return latency->max();
  }
}

std::optional<double> window_metrics::value(std::string_view name) const {
  if (const metric_plan* plan = declared_plan()) {
    if (auto i = plan->index_of(name)) return declared_value(*i);
    return std::nullopt;
  }
  if (auto m = window_metric_of(name)) return value(*m);
  return std::nullopt;
}

std::optional<double> window_metrics::declared_value(size_t i) const {
  const auto* d = declared_.find();
  return d && d->plan ? d->values.value(*d->plan, i) : std::nullopt;
}

void window_metrics::append_json(std::string& out) const {
  if (const auto* d = declared_.find(); d && d->plan) {
    d->values.append_json(*d->plan, out);
    return;
  }
  bool first = true;
  for (size_t i = 0; i < window_metric_count; ++i) {
    const auto m = static_cast<window_metric>(i);
    const auto v = value(m);
    if (!v) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += name_of(m);
    out += "\":";
    append_json_number(out, *v);
  }
}

std::string to_json(const window_result& r) {
  // Written by hand, not through a JSON DOM: a closing per-IP window
  // formats tens of thousands of these in one turn of the window stage.
  std::string out;
  out.reserve(512);
  out += "{\"window\":{\"start\":";
  append_json_string(out, format_rfc3339_utc(r.start_ms));
  out += ",\"end\":";
  append_json_string(out, format_rfc3339_utc(r.end_ms));
  out += "},\"group\":{";
  for (size_t i = 0; i < r.group.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, r.group[i].first);
    out += ':';
    append_json_string(out, r.group[i].second);
  }
  out += "},\"metrics\":{";
  r.metrics.append_json(out);
  for (const auto& [name, score] : r.anomaly) {
    char num[32];
    std::snprintf(num, sizeof num, ":%.4f", score);
    out += ',';
    append_json_string(out, name);
    out += num;
  }
  out += "}}";
  return out;
}

namespace {

// Built-in group fields; dimension labels follow from `label_base`.
enum field_id : int {
  f_ip, f_path, f_route, f_status, f_status_class, f_method, f_host, f_protocol, f_user_agent,
  f_referer, f_ua_class, label_base
};
// Record fields: ids from here (far past any number of labels).
constexpr int record_base = 1 << 20;
constexpr const char* builtin_fields[] = {"ip", "path", "route", "status", "status_class", "method",
                                          "host", "protocol", "user_agent", "referer", "ua_class"};

// A group key holds the group's field values, each escaped (\0 as \1\1,
// \1 as \1\2) and the next after a \0: no two groups share a key, and keys
// order as their values do, field by field (a shorter value first), so
// sorting keys sorts groups. An overflow key begins with \1\0, which no
// escaped value holds. The group's fields are read back from its key: a
// group holds them once.
constexpr std::string_view overflow_marker("\x01\x00", 2);

bool is_overflow_key(std::string_view key) noexcept { return key.substr(0, 2) == overflow_marker; }

// Saved after an overflow group's fields, so that it restores as one
// (no group_by field is so named). Without it, a restart made a second
// group of the same fields for the overflow that followed.
constexpr std::string_view overflow_field("\x01overflow", 9);

/// Escapes what follows `from` in `key` (a value just appended).
void escape_from(std::string& key, size_t from) {
  const auto needs = [](char c) { return c == '\0' || c == '\x01'; };
  if (std::none_of(key.begin() + static_cast<std::ptrdiff_t>(from), key.end(), needs)) return;
  std::string escaped;
  for (size_t i = from; i < key.size(); ++i) {
    if (needs(key[i])) {
      escaped += '\x01';
      escaped += key[i] == '\0' ? '\x01' : '\x02';
    } else {
      escaped += key[i];
    }
  }
  key.resize(from);
  key += escaped;
}

void append_value(std::string_view value, std::string& key) {
  const size_t from = key.size();
  key += value;
  escape_from(key, from);
}

/// Calls `each(value)` with the `n` values of `key` (those it lacks empty).
template <class Each>
void each_value(std::string_view key, size_t n, Each&& each) {
  if (is_overflow_key(key)) key.remove_prefix(overflow_marker.size());
  std::string unescaped;
  for (size_t i = 0; i < n; ++i) {
    const size_t end = std::min(key.find('\0'), key.size());
    const std::string_view value = key.substr(0, end);
    key.remove_prefix(std::min(end + 1, key.size()));
    if (value.find('\x01') == std::string_view::npos) {
      each(value);
      continue;
    }
    unescaped.clear();
    for (size_t k = 0; k < value.size(); ++k) {
      if (value[k] == '\x01' && k + 1 < value.size()) unescaped += value[++k] == '\x01' ? '\0' : '\x01';
      else unescaped += value[k];
    }
    each(std::string_view(unescaped));
  }
}

/// The order of groups by their values (an overflow group among the others).
bool key_less(std::string_view a, std::string_view b) noexcept {
  if (is_overflow_key(a)) a.remove_prefix(overflow_marker.size());
  if (is_overflow_key(b)) b.remove_prefix(overflow_marker.size());
  return a < b;
}

/// A group's key from its field values, as `make_key` makes it.
std::string key_of(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string key;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) key += '\0';
    append_value(fields[i].second, key);
  }
  return key;
}

} // namespace

window_engine::window_engine(window_config cfg, std::vector<std::string> label_names, const record_layout* records)
  : cfg_(std::move(cfg)), label_names_(std::move(label_names)) {
  std::random_device entropy;
  use_hash_seed((uint64_t{entropy()} << 32) ^ entropy());
  // A group costs at most its metrics (about 1 KiB) and, per group field,
  // a value of 256 bytes held twice (key and result): the byte bound is a
  // group count, the same on every replay.
  const uint64_t group_bytes = 1024 + 2 * max_group_value_bytes * cfg_.group_by.size();
  group_cap_ = static_cast<size_t>(std::max<uint64_t>(1, std::min<uint64_t>(cfg_.max_groups, cfg_.max_state_bytes / group_bytes)));
  if (!cfg_.metrics.empty()) {
    std::string error;
    const record_layout none;
    plan_ = metric_plan::compile(cfg_.metrics, records ? *records : none, error);
    if (!plan_) throw std::invalid_argument("window " + cfg_.name + ": " + error);
  }
  for (const auto& f : cfg_.group_by) {
    int id = -1;
    // A window over records groups by record fields first: "status" is
    // then the record's, not the web-log one.
    if (records && plan_)
      if (auto i = records->index_of(f)) id = record_base + static_cast<int>(*i);
    for (int i = 0; id < 0 && i < label_base; ++i)
      if (f == builtin_fields[i]) id = i;
    for (size_t i = 0; id < 0 && i < label_names_.size(); ++i)
      if (f == label_names_[i]) id = label_base + static_cast<int>(i);
    if (id < 0 && records)
      if (auto i = records->index_of(f)) id = record_base + static_cast<int>(*i);
    if (id < 0) throw std::invalid_argument("window " + cfg_.name + ": unknown group_by field '" + f + "'");
    field_ids_.push_back(id);
  }
}

void window_engine::watch(std::vector<std::string> metrics) {
  watched_.clear();
  watched_declared_.clear();
  for (const auto& name : metrics) {
    watched_.push_back(plan_ ? std::nullopt : window_metric_of(name));
    watched_declared_.push_back(plan_ ? plan_->index_of(name) : std::nullopt);
  }
}

size_t window_engine::open_groups() const noexcept {
  size_t n = 0;
  for (const auto& [start, groups] : open_) n += groups.size();
  return n + open_sessions_;
}

bool window_engine::append_field(const window_event& e, size_t field, std::string& out) const {
  const size_t from = out.size();
  const int id = field_ids_[field];
  switch (id) {
    case f_ip: out += e.ip; break;
    case f_path: out += e.path; break;
    case f_route:
      if (!e.route.empty()) out += e.route;
      else append_route(e.path, out);
      break;
    case f_status: {
      char buf[8];
      int n = std::snprintf(buf, sizeof(buf), "%u", static_cast<unsigned>(e.status));
      out.append(buf, static_cast<size_t>(n));
      break;
    }
    case f_status_class:
      out += static_cast<char>('0' + e.status / 100 % 10);
      out += "xx";
      break;
    case f_method: out += e.method; break;
    case f_host: out += e.host; break;
    case f_protocol: out += e.protocol; break;
    case f_user_agent: out += e.user_agent; break;
    case f_referer: out += e.referer; break;
    case f_ua_class: out += e.ua_class; break;
    default:
      if (id >= record_base) {
        if (e.record) {
          thread_local std::string scratch;
          out += value_text(e.record[id - record_base], e.record_text, scratch);
        }
      } else if (e.labels) {
        out += e.labels[id - label_base];
      }
  }
  if (out.size() - from <= max_group_value_bytes) return false;
  // A key is held twice per group (the map's and the result's): a 32 KB
  // user agent per group would make 10,000 groups gigabytes. Long values
  // keep their start and a hash of the whole, so they stay apart.
  const uint64_t hash = xxh3(std::string_view(out.data() + from, out.size() - from));
  char tail[24];
  std::snprintf(tail, sizeof tail, "~%016llx", static_cast<unsigned long long>(hash));
  size_t keep = from + max_group_value_bytes - 17;
  while (keep > from && (static_cast<unsigned char>(out[keep]) & 0xc0) == 0x80) --keep;  // whole UTF-8 characters
  out.resize(keep);
  out += tail;
  return true;
}

void window_engine::make_key(const window_event& e) {
  key_.clear();
  for (size_t i = 0; i < field_ids_.size(); ++i) {
    if (i > 0) key_ += '\0';
    const size_t from = key_.size();
    if (append_field(e, i, key_)) ++values_cut_;
    escape_from(key_, from);
  }
}

// A flood of distinct keys (a botnet, or one IPv6 host cycling through its
// /64) must not blind the window: past the group cap each key counts in its
// network's group (an address's /24 or /64, any other value "(overflow)"),
// and past a budget above that in the one "(overflow)" group. The key is
// built in a reused buffer: under a flood this is the path every event takes.
template <class Values>
const std::string& window_engine::overflow_key(size_t open, Values&& each_value) {
  const size_t budget = group_cap_ + std::max<size_t>(16, group_cap_ / 16);
  const bool per_network = open < budget;
  overflow_key_.assign(overflow_marker);
  bool first = true;
  each_value([&](std::string_view value) {
    if (!first) overflow_key_ += '\0';
    first = false;
    const size_t from = overflow_key_.size();
    if (per_network) append_network_of(value, overflow_key_);
    else overflow_key_ += overflow_value;
    escape_from(overflow_key_, from);
  });
  return overflow_key_;
}

const std::string& window_engine::overflow_key(const window_event& e, size_t open) {
  return overflow_key(open, [&](auto&& take) {
    for (size_t i = 0; i < field_ids_.size(); ++i) {
      value_scratch_.clear();
      append_field(e, i, value_scratch_);
      take(value_scratch_);
    }
  });
}

std::vector<std::pair<std::string, std::string>> window_engine::fields_of(std::string_view key) const {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(cfg_.group_by.size());
  size_t i = 0;
  each_value(key, cfg_.group_by.size(),
             [&](std::string_view value) { fields.emplace_back(cfg_.group_by[i++], std::string(value)); });
  return fields;
}

void window_engine::touch(group_state& g, const window_event& e) {
  keep_for_checkpoint(g);
  g.metrics.add(e);
  g.last_event_ms = std::max(g.last_event_ms, e.time_ms);
  mark_changed(g);
}

void window_engine::mark_changed(group_state& g) {
  if (!g.dirty && !watched_.empty()) {
    g.dirty = true;
    dirty_.push_back(&g);
  }
}

window_engine::group_state window_engine::new_group(int64_t start, int64_t end) const {
  group_state g;
  g.saved_in = save_epoch_;  // not part of a checkpoint being written
  g.start_ms = start;
  g.end_ms = end;
  g.metrics.declare(plan_);
  return g;
}

group_snapshot window_engine::snapshot(const group_state& g) const { return snapshot(g, fields_of(*g.key)); }

group_snapshot window_engine::snapshot(const group_state& g, std::vector<std::pair<std::string, std::string>> fields) const {
  group_snapshot s;
  s.group = std::move(fields);
  s.last_event_ms = g.last_event_ms;
  s.values.reserve(watched_.size());
  for (size_t i = 0; i < watched_.size(); ++i) {
    std::optional<double> v;
    if (plan_) {
      if (watched_declared_[i]) v = g.metrics.declared_value(*watched_declared_[i]);
    } else if (watched_[i]) {
      v = g.metrics.value(*watched_[i]);
    }
    s.values.push_back(v.value_or(std::nan("")));
  }
  return s;
}

window_engine::group_map& window_engine::instance_at(int64_t start) {
  return open_.try_emplace(start, 0, group_hash{hash_seed_}).first->second;
}

void window_engine::use_hash_seed(uint64_t seed) {
  hash_seed_ = seed;
  sessions_ = session_map(0, group_hash{seed});
}

window_engine::group_map::iterator window_engine::emplace_group(group_map& groups, std::string_view key,
                                                                 int64_t start, int64_t end) {
  auto it = groups.try_emplace(key, new_group(start, end)).first;
  it->second.key = &it->first;
  return it;
}

bool window_engine::waits_for_close(const group_state& g) const {
  if (!closing_ || closing_->start >= g.start_ms) return false;
  // The closing instance is the oldest open one; its closed groups are erased.
  return open_.begin()->second.count(*g.key) != 0;
}

void window_engine::drain_changes() {
  if (dirty_.empty()) return;
  std::sort(dirty_.begin(), dirty_.end(), [](const group_state* a, const group_state* b) {
    return a->start_ms != b->start_ms ? a->start_ms < b->start_ms : key_less(*a->key, *b->key);
  });
  size_t waiting = 0;  // kept at the front of dirty_, still dirty: they go once their keys have closed
  for (group_state* g : dirty_) {
    if (waits_for_close(*g)) {
      dirty_[waiting++] = g;
      continue;
    }
    g->dirty = false;
    if (deltas_.empty() || deltas_.back().closed || deltas_.back().start_ms != g->start_ms
        || deltas_.back().end_ms != g->end_ms)
      deltas_.push_back(window_delta{cfg_.name, g->start_ms, g->end_ms, false, {}});
    deltas_.back().groups.push_back(snapshot(*g));
  }
  dirty_.resize(waiting);
}

void window_engine::take_deltas(std::vector<window_delta>& out) {
  drain_changes();
  for (auto& d : deltas_) out.push_back(std::move(d));
  deltas_.clear();
}

void window_engine::queue_close(int64_t start, group_map& groups) {
  close_cursor c;
  c.start = start;
  // Sorted by the keys' first 8 bytes, read big-endian, held beside each
  // group: a million keys sort without visiting a node per comparison,
  // except where those bytes tie.
  struct by_prefix {
    uint64_t prefix;
    group_map::iterator group;
  };
  std::vector<by_prefix> sorted;
  sorted.reserve(groups.size());
  for (auto it = groups.begin(); it != groups.end(); ++it) {
    uint64_t prefix = 0;
    const std::string& key = it->first;
    for (size_t i = 0; i < 8; ++i)
      prefix = prefix << 8 | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0u);
    sorted.push_back({prefix, it});
  }
  std::sort(sorted.begin(), sorted.end(), [](const by_prefix& a, const by_prefix& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.group->first < b.group->first;
  });
  c.order.reserve(sorted.size());
  for (const auto& entry : sorted) c.order.push_back(entry.group);
  closing_ = std::move(c);
}

size_t window_engine::closing_groups() const noexcept { return closing_ ? closing_->order.size() - closing_->next : 0; }

bool window_engine::close_some(size_t budget, std::vector<window_result>& closed) {
  if (closing_ && budget > 0) {
    close_cursor& c = *closing_;
    auto instance = open_.begin();  // the oldest open instance is the closing one
    group_map& groups = instance->second;
    const int64_t end = c.start + cfg_.size.count();
    const size_t n = std::min(budget, c.order.size() - c.next);
    const bool last = c.next + n == c.order.size();
    if (!watched_.empty()) {
      deltas_.push_back(window_delta{cfg_.name, c.start, end, true, {}, last});
      deltas_.back().groups.reserve(n);
    }
    if (closed.capacity() < closed.size() + n) closed.reserve(std::max(closed.size() + n, 2 * closed.capacity()));
    // Each group is let go once its result holds it: a window of a million
    // groups is not in memory twice at its close.
    for (size_t k = 0; k < n; ++k) {
      auto it = c.order[c.next++];
      // A checkpoint being written still holds the group as it was.
      keep_for_checkpoint(it->second);
      forget_for_checkpoint(it->second);
      if (!watched_.empty()) deltas_.back().groups.push_back(snapshot(it->second));
      closed.push_back({cfg_.name, c.start, end, fields_of(it->first), std::move(it->second.metrics), {}});
      groups.erase(it);
    }
    if (last) {
      open_.erase(instance);
      closing_.reset();
      drain_changes();  // the changes that waited for it
    }
  }
  return !closing_;
}

void window_engine::advance(int64_t watermark, std::vector<window_result>& closed) {
  watermark_ = watermark;
  // Changes first: the groups about to close are still whole.
  drain_changes();
  if (cfg_.type == window_type::session) {
    // Each with its fields: its key goes with its map entry.
    std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::unique_ptr<group_state>>> done;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto& list = it->second;
      for (auto s = list.begin(); s != list.end();) {
        if ((*s)->end_ms <= watermark) {
          keep_for_checkpoint(**s);
          forget_for_checkpoint(**s);
          (*s)->key = nullptr;
          done.emplace_back(fields_of(it->first), std::move(*s));
          s = list.erase(s);
          --open_sessions_;
        } else {
          ++s;
        }
      }
      if (list.empty()) sessions_.erase(it++);
      else ++it;
    }
    std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
      return std::tie(a.second->start_ms, a.first) < std::tie(b.second->start_ms, b.first);
    });
    for (auto& [fields, s] : done) {
      if (!watched_.empty())
        deltas_.push_back(window_delta{cfg_.name, s->start_ms, s->end_ms, true, {snapshot(*s, fields)}});
      closed.push_back({cfg_.name, s->start_ms, s->end_ms, std::move(fields), std::move(s->metrics), {}});
    }
    return;
  }
  // One instance closes at a time: one the watermark passes while another
  // is still closing closes that one whole first. (The changes made
  // meanwhile, held for the first, then go before the next one's close,
  // where they belong.)
  for (;;) {
    auto next = closing_ ? std::next(open_.begin()) : open_.begin();
    if (next == open_.end() || next->first + cfg_.size.count() > watermark) break;
    if (closing_) close_some(SIZE_MAX, closed);
    queue_close(next->first, next->second);
    // In slices, a close begins with an empty one: from it the rules know
    // that the changes after it come after the close (rule_engine::on_delta).
    if (sliced_ && !watched_.empty())
      deltas_.push_back(window_delta{cfg_.name, next->first, next->first + cfg_.size.count(), true, {}, false});
  }
  if (!sliced_) close_some(SIZE_MAX, closed);
}

void window_engine::set_inputs(size_t n) {
  input_max_.assign(std::max<size_t>(n, 1), INT64_MIN);
  input_idle_.assign(input_max_.size(), 0);
}

void window_engine::set_idle(size_t input, bool idle) {
  if (input < input_idle_.size()) input_idle_[input] = idle ? 1 : 0;
}

void window_engine::add(const window_event& e, std::vector<window_result>& closed, size_t input) {
  if (!e.prepared) {
    window_event p = e;
    p.prepare();
    return add(p, closed, input);
  }
  if (input >= input_max_.size()) input = 0;
  input_idle_[input] = 0;
  const int64_t t = e.time_ms;
  make_key(e);
  if (!partition_.single() && partition_of(cfg_, key_, partition_.count) != partition_.index) {
    if (!collecting_) raise_input(input, t, closed);
    return;
  }
  if (cfg_.type == window_type::session) {
    const int64_t gap = cfg_.gap.count();
    auto touches = [&](const std::unique_ptr<group_state>& s) {
      return t >= s->start_ms - gap && t < s->end_ms;
    };
    auto found = sessions_.find(key_);
    const bool joins_open =
      found != sessions_.end() && std::any_of(found->second.begin(), found->second.end(), touches);
    // Late only when no open session takes it and its own would be over.
    if (!joins_open && watermark_ != INT64_MIN && t + gap <= watermark_) {
      ++late_;
      return;
    }
    if (!joins_open && open_sessions_ >= group_cap_) {
      ++groups_dropped_;
      key_ = overflow_key(e, open_sessions_);
    }
  } else if (!collecting_) {
    const int64_t slide = cfg_.type == window_type::sliding ? cfg_.slide.count() : cfg_.size.count();
    if (watermark_ != INT64_MIN && floor_div(t, slide) * slide + cfg_.size.count() <= watermark_) {
      ++late_;
      return;
    }
  }

  // Advance first: a window or session that takes `t` ends after
  // t - lateness, so none of the event's own can close here.
  if (!collecting_) raise_input(input, t, closed);

  if (cfg_.type == window_type::session) {
    const int64_t gap = cfg_.gap.count();
    auto entry = sessions_.try_emplace(key_).first;
    auto& list = entry->second;
    // Join every session the event touches; they merge through it.
    std::unique_ptr<group_state> joined;
    for (auto s = list.begin(); s != list.end();) {
      group_state& g = **s;
      if (!(t >= g.start_ms - gap && t < g.end_ms)) {
        ++s;
        continue;
      }
      keep_for_checkpoint(g);
      if (!joined) {
        joined = std::move(*s);
      } else {
        joined->start_ms = std::min(joined->start_ms, g.start_ms);
        joined->end_ms = std::max(joined->end_ms, g.end_ms);
        joined->last_event_ms = std::max(joined->last_event_ms, g.last_event_ms);
        joined->metrics.merge(g.metrics);
        if (g.dirty) dirty_.erase(std::find(dirty_.begin(), dirty_.end(), &g));
        forget_for_checkpoint(g);
      }
      s = list.erase(s);
      --open_sessions_;
    }
    if (!joined) {
      joined = std::make_unique<group_state>(new_group(t, t + gap));
      joined->key = &entry->first;
    }
    joined->start_ms = std::min(joined->start_ms, t);
    joined->end_ms = std::max(joined->end_ms, t + gap);
    touch(*joined, e);
    list.push_back(std::move(joined));
    ++open_sessions_;
    return;
  }
  const int64_t size = cfg_.size.count();
  const int64_t slide = cfg_.type == window_type::sliding ? cfg_.slide.count() : size;
  for (int64_t start = floor_div(t, slide) * slide; start > t - size; start -= slide) {
    if (watermark_ != INT64_MIN && start + size <= watermark_) break;  // already closed
    auto& groups = instance_at(start);
    auto it = groups.find(key_);
    if (it == groups.end()) {
      if (groups.size() >= group_cap_ && !collecting_) {
        ++groups_dropped_;
        const std::string& key = overflow_key(e, groups.size());
        it = groups.find(key);
        if (it == groups.end()) it = emplace_group(groups, key, start, start + size);
      } else {
        it = emplace_group(groups, key_, start, start + size);
      }
    }
    touch(it->second, e);
  }
}

void window_engine::flush(std::vector<window_result>& closed) { flush_some(SIZE_MAX, closed); }

bool window_engine::flush_some(size_t budget, std::vector<window_result>& closed) {
  if (watermark_ != INT64_MAX) advance(INT64_MAX, closed);
  return close_some(budget, closed);
}

void window_engine::raise_input(size_t input, int64_t t, std::vector<window_result>& closed) {
  if (t > max_time_) max_time_ = t;
  if (t <= input_max_[input]) return;
  input_max_[input] = t;
  // The slowest input holds the watermark back: a fast one must not make
  // another's events late (the same events in any interleaving close the
  // same windows). Idle inputs do not hold it.
  int64_t slowest = INT64_MAX;
  for (size_t i = 0; i < input_max_.size(); ++i)
    if (!input_idle_[i] || i == input) slowest = std::min(slowest, input_max_[i]);
  if (slowest == INT64_MIN) return;
  const int64_t wm = slowest - cfg_.allowed_lateness.count();
  if (wm > watermark_) advance(wm, closed);
}

void window_engine::take_partials(std::vector<window_partial>& out) {
  for (auto& [start, groups] : open_)
    for (auto& [key, g] : groups)
      out.push_back(window_partial{start, key, fields_of(key), g.last_event_ms, std::move(g.metrics)});
  open_.clear();
  closing_.reset();
  dirty_.clear();
}

void window_engine::merge(window_partial& p, size_t input) {
  if (input >= input_max_.size()) input = 0;
  input_idle_[input] = 0;
  const int64_t size = cfg_.size.count();
  if (watermark_ != INT64_MIN && p.start_ms + size <= watermark_) {
    late_ += p.metrics.requests();
    return;
  }
  auto& groups = instance_at(p.start_ms);
  auto it = groups.find(p.key);
  if (it == groups.end()) {
    if (groups.size() >= group_cap_) {
      groups_dropped_ += p.metrics.requests();
      const std::string& key = overflow_key(groups.size(), [&](auto&& take) {
        for (const auto& field : p.fields) take(field.second);
      });
      it = groups.find(key);
      if (it == groups.end()) it = emplace_group(groups, key, p.start_ms, p.start_ms + size);
    } else {
      it = emplace_group(groups, p.key, p.start_ms, p.start_ms + size);
    }
  }
  group_state& g = it->second;
  keep_for_checkpoint(g);
  g.metrics.merge(p.metrics);
  g.last_event_ms = std::max(g.last_event_ms, p.last_event_ms);
  mark_changed(g);
}

void window_engine::advance_input(size_t input, int64_t max_time_ms, std::vector<window_result>& closed) {
  if (input >= input_max_.size()) input = 0;
  raise_input(input, max_time_ms, closed);
}

struct window_engine::pending_save {
  uint32_t epoch = 0;
  size_t taken = 0;  // bytes handed over by take_saved
  state_writer out;
  std::vector<group_state*> todo;  // null: written, then merged away
  size_t next = 0;
  size_t written = 0;
};

window_engine::~window_engine() = default;
window_engine::window_engine(window_engine&&) noexcept = default;
window_engine& window_engine::operator=(window_engine&&) noexcept = default;

namespace {

// Saved state: a header, then one record per group. The group key is
// not stored: it is the group's field values, as `make_key` joins them.
enum class saved_kind : uint64_t { by_start = 0, sessions = 1 };
// Set in the kind when the group tables' hash seed follows it (format 6;
// 3 to 5 have none, and their groups go into tables of a fresh seed).
constexpr uint64_t seed_follows = 2;

struct saved_header_kind {
  saved_kind kind;
  std::optional<uint64_t> seed;
};

saved_header_kind read_kind(state_reader& r) {
  const uint64_t v = r.u64();
  if ((v & ~seed_follows) > 1) throw state_decode_error("window state of an unknown kind " + std::to_string(v));
  saved_header_kind k{static_cast<saved_kind>(v & ~seed_follows), std::nullopt};
  if (v & seed_follows) k.seed = r.u64();
  return k;
}

template <class Group>
void restore_group(state_reader& r, Group& g, std::vector<std::pair<std::string, std::string>>& fields) {
  r.fields_into(fields);
  g.start_ms = r.i64();
  g.end_ms = r.i64();
  g.last_event_ms = r.i64();
  g.metrics.restore(r);
}

} // namespace

void window_engine::save_group(state_writer& w, const group_state& g) const {
  const bool overflow = is_overflow_key(*g.key);
  w.fields_begin(cfg_.group_by.size() + (overflow ? 1 : 0));
  size_t i = 0;
  each_value(*g.key, cfg_.group_by.size(), [&](std::string_view value) {
    w.str(cfg_.group_by[i++]);
    w.str(value);
  });
  if (overflow) {
    w.str(overflow_field);
    w.str("");
  }
  w.i64(g.start_ms);
  w.i64(g.end_ms);
  w.i64(g.last_event_ms);
  g.metrics.save(w);
}

void window_engine::write_header(state_writer& w, uint64_t groups) const {
  w.str(cfg_.name);
  w.u64(static_cast<uint64_t>(cfg_.type == window_type::session ? saved_kind::sessions : saved_kind::by_start) |
        seed_follows);
  w.u64(hash_seed_);
  w.i64(max_time_);
  w.u64(input_max_.size());
  for (int64_t t : input_max_) w.i64(t);
  w.i64(watermark_);
  w.u64(late_);
  w.u64(groups_dropped_);
  w.u64(groups);
}

std::string window_engine::save() {
  begin_save();
  return end_save();
}

namespace {
// What a save in pieces holds before its caller takes it: about a piece.
constexpr size_t save_piece_room = size_t{5} << 18;  // 1.25 MiB
} // namespace

void window_engine::begin_save(bool in_pieces) {
  finish_save();
  save_ = std::make_unique<pending_save>();
  save_->epoch = ++save_epoch_;
  auto& todo = save_->todo;
  todo.reserve(open_groups());
  auto add = [&](group_state& g) {
    g.save_slot = static_cast<uint32_t>(todo.size());
    todo.push_back(&g);
  };
  for (auto& [start, groups] : open_)
    for (auto& [key, g] : groups) add(g);
  for (auto& [key, list] : sessions_)
    for (auto& g : list) add(*g);
  // Room for what the last checkpoint wrote a group, and a tenth more: a
  // million groups' state is not grown into by doubling and copying.
  save_->out.reserve(in_pieces ? save_piece_room : todo.size() * saved_bytes_per_group_ * 11 / 10 + 256);
  write_header(save_->out, todo.size());
}

void window_engine::keep_for_checkpoint(group_state& g) {
  if (!save_ || g.saved_in == save_->epoch) return;
  save_group(save_->out, g);
  g.saved_in = save_->epoch;
  ++save_->written;
}

void window_engine::forget_for_checkpoint(const group_state& g) {
  if (save_ && g.save_slot < save_->todo.size() && save_->todo[g.save_slot] == &g)
    save_->todo[g.save_slot] = nullptr;
}

bool window_engine::save_some(size_t budget) {
  if (!save_) return true;
  auto& todo = save_->todo;
  for (; save_->next < todo.size() && budget > 0; ++save_->next) {
    group_state* g = todo[save_->next];
    if (!g || g->saved_in == save_->epoch) continue;
    keep_for_checkpoint(*g);
    --budget;
  }
  return save_->next == todo.size();
}

void window_engine::finish_save() {
  if (save_) save_some(SIZE_MAX);
}

size_t window_engine::saved_size() const noexcept { return save_ ? save_->out.size() : 0; }

std::string window_engine::take_saved() {
  if (!save_) return {};
  std::string piece = save_->out.take();
  save_->taken += piece.size();
  save_->out.reserve(save_piece_room);
  return piece;
}

std::string window_engine::end_save() {
  if (!save_) return {};
  finish_save();
  if (save_->written != save_->todo.size())  // a bug, not bad input: say so loudly
    throw std::logic_error("window " + cfg_.name + ": checkpoint wrote " + std::to_string(save_->written) +
                           " of " + std::to_string(save_->todo.size()) + " groups");
  std::string bytes = save_->out.take();
  if (save_->written > 0) saved_bytes_per_group_ = (save_->taken + bytes.size()) / save_->written;
  save_.reset();
  return bytes;
}

window_engine::state_summary window_engine::summarize(state_reader& r) {
  state_summary s;
  s.window = r.str();
  const auto kind = read_kind(r).kind;
  r.i64();  // highest event time
  for (size_t n = r.count(); n > 0; --n) r.i64();  // per input
  s.watermark = r.i64();
  s.late = r.u64();
  s.groups_dropped = r.u64();
  std::map<int64_t, uint64_t> instances;
  group_state g;
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t n = r.count(); n > 0; --n) {
    restore_group(r, g, fields);
    s.requests += g.metrics.requests();
    if (kind == saved_kind::sessions) ++s.sessions;
    else ++instances[g.start_ms];
  }
  s.instances.assign(instances.begin(), instances.end());
  return s;
}

void window_engine::restore(state_reader& r) {
  const std::string name = r.str();
  if (name != cfg_.name)
    throw state_decode_error("window state is for window '" + name + "', not '" + cfg_.name + "'");
  const auto [kind, seed] = read_kind(r);
  if (kind != (cfg_.type == window_type::session ? saved_kind::sessions : saved_kind::by_start))
    throw state_decode_error("window state of '" + name + "' is for another window type");
  max_time_ = r.i64();
  if (r.count() != input_max_.size())
    throw state_decode_error("window state of '" + name + "' is for another number of inputs (sources)");
  for (auto& t : input_max_) t = r.i64();
  watermark_ = r.i64();
  late_ = r.u64();
  groups_dropped_ = r.u64();
  save_.reset();
  open_.clear();
  sessions_.clear();
  if (seed) use_hash_seed(*seed);
  open_sessions_ = 0;
  dirty_.clear();
  deltas_.clear();
  // Groups come instance by instance: look the instance up when it changes.
  group_map* instance = nullptr;
  int64_t instance_start = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  size_t n = r.count();
  // Room for every group still to come, so a million are not grown into by
  // rehashing; an instance that took fewer gives the room back.
  if (kind == saved_kind::sessions) sessions_.reserve(n);
  auto fit = [](group_map* m) {
    if (m && m->size() < m->capacity() / 4) m->rehash(0);
  };
  for (; n > 0; --n) {
    group_state g;
    restore_group(r, g, fields);
    g.metrics.bind(plan_);
    g.saved_in = save_epoch_;
    std::string key;
    if (!fields.empty() && fields.back().first == overflow_field) {
      fields.pop_back();
      key = overflow_marker;
    }
    key += key_of(fields);
    if (kind == saved_kind::sessions) {
      auto entry = sessions_.try_emplace(std::move(key)).first;
      g.key = &entry->first;
      entry->second.push_back(std::make_unique<group_state>(std::move(g)));
      ++open_sessions_;
      continue;
    }
    if (!instance || instance_start != g.start_ms) {
      fit(instance);
      instance = &instance_at(g.start_ms);
      instance_start = g.start_ms;
      instance->reserve(instance->size() + n);
    }
    auto it = instance->try_emplace(std::move(key), std::move(g)).first;
    it->second.key = &it->first;
  }
  fit(instance);
  // An instance the watermark passed was closing when the checkpoint was
  // taken (its first, empty slice went out before it): what it still holds
  // is what was still to close. Changes of its keys in later instances may
  // have been waiting: they go after.
  closing_.reset();
  if (kind == saved_kind::sessions || open_.empty()) return;
  if (open_.begin()->first + cfg_.size.count() <= watermark_) queue_close(open_.begin()->first, open_.begin()->second);
  if (!closing_ || watched_.empty()) return;
  for (auto& [start, groups] : open_)
    for (auto& [key, g] : groups)
      if (waits_for_close(g)) mark_changed(g);
}

} // namespace vigil
