#include "window/window_engine.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"
#include "rules/metric_names.hpp"

namespace vigil {

namespace {

uint64_t hash_of(std::string_view a, std::string_view b = {}) {
  string_hash h;
  return h(a) * 0x9E3779B97F4A7C15ull ^ h(b);
}

// Attacks seen in the request itself (the `probes` metric); scanner agents
// are who sends them, not what is sent.
constexpr signature_mask probe_classes = attack_mask & path_mask;

} // namespace

void window_metrics::add(const window_event& e) {
  ++requests_;
  bytes_ += e.bytes;
  const bool is_static = (e.classes & mask_of(signature_class::static_file)) != 0;
  page_views_ += !is_static && e.status < 400;
  probes_ += (e.classes & probe_classes) != 0;
  bots_ += (e.classes & mask_of(signature_class::bot)) != 0;
  if (e.status >= 100 && e.status < 600) ++status_[e.status / 100];
  status_401_ += e.status == 401;
  status_403_ += e.status == 403;
  status_404_ += e.status == 404;
  visitors_.insert(hash_of(e.ip, e.user_agent));
  paths_.insert(hash_of(e.path));
  if (e.request_time_us >= 0) latency_.add(static_cast<double>(e.request_time_us));
}

void window_metrics::merge(const window_metrics& o) {
  requests_ += o.requests_;
  page_views_ += o.page_views_;
  bytes_ += o.bytes_;
  probes_ += o.probes_;
  bots_ += o.bots_;
  for (int i = 0; i < 6; ++i) status_[i] += o.status_[i];
  status_401_ += o.status_401_;
  status_403_ += o.status_403_;
  status_404_ += o.status_404_;
  visitors_.insert(o.visitors_.begin(), o.visitors_.end());
  paths_.insert(o.paths_.begin(), o.paths_.end());
  latency_.merge(o.latency_);
}

std::optional<double> window_metrics::value(std::string_view name) const {
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  const double req = d(requests_);
  if (name == "requests") return req;
  if (name == "page_views") return d(page_views_);
  if (name == "bytes") return d(bytes_);
  if (name == "visitors") return d(visitors_.size());
  if (name == "status_2xx") return d(status_[2]);
  if (name == "status_3xx") return d(status_[3]);
  if (name == "status_4xx") return d(status_[4]);
  if (name == "status_5xx") return d(status_[5]);
  if (name == "status_401") return d(status_401_);
  if (name == "status_403") return d(status_403_);
  if (name == "status_404") return d(status_404_);
  if (name == "error_rate") return req > 0 ? d(status_[5]) / req : 0.0;
  if (name == "client_error_rate") return req > 0 ? d(status_[4]) / req : 0.0;
  if (name == "probes") return d(probes_);
  if (name == "bots") return d(bots_);
  if (name == "distinct_paths") return d(paths_.size());
  if (name.rfind("latency_", 0) == 0) {
    if (latency_.count() == 0) return std::nullopt;
    if (name == "latency_p50") return std::round(latency_.quantile(0.50));
    if (name == "latency_p90") return std::round(latency_.quantile(0.90));
    if (name == "latency_p95") return std::round(latency_.quantile(0.95));
    if (name == "latency_p99") return std::round(latency_.quantile(0.99));
    if (name == "latency_max") return latency_.max();
  }
  return std::nullopt;
}

std::string to_json(const window_result& r) {
  nlohmann::ordered_json j;
  j["window"] = {{"start", format_rfc3339_utc(r.start_ms)}, {"end", format_rfc3339_utc(r.end_ms)}};
  nlohmann::ordered_json group = nlohmann::ordered_json::object();
  for (const auto& [k, v] : r.group) group[k] = v;
  j["group"] = group;
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (const auto& name : window_metric_names())
    if (auto v = r.metrics.value(name)) {
      if (*v == std::floor(*v) && std::abs(*v) < 9e15) metrics[name] = static_cast<int64_t>(*v);
      else metrics[name] = *v;
    }
  j["metrics"] = metrics;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string route_of(std::string_view path) {
  std::string out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos + 1);
    std::string_view seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    std::string_view body = seg.substr(seg.empty() || seg[0] != '/' ? 0 : 1);
    bool digits = !body.empty() && std::all_of(body.begin(), body.end(), [](char c) { return c >= '0' && c <= '9'; });
    bool hexid = body.size() >= 16 && std::all_of(body.begin(), body.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
                 });
    if (digits || hexid) out += "/:id";
    else out += seg;
    pos = slash == std::string_view::npos ? path.size() : slash;
  }
  return out.empty() ? std::string(path) : out;
}

window_engine::window_engine(window_config cfg) : cfg_(std::move(cfg)) {}

size_t window_engine::open_groups() const noexcept {
  size_t n = 0;
  for (const auto& [start, groups] : open_) n += groups.size();
  for (const auto& [key, list] : sessions_) n += list.size();
  return n;
}

std::string window_engine::field_value(const window_event& e, const std::string& f) {
  if (f == "ip") return std::string(e.ip);
  if (f == "path") return std::string(e.path);
  if (f == "route") return route_of(e.path);
  if (f == "status") return std::to_string(e.status);
  if (f == "status_class") return std::to_string(e.status / 100) + "xx";
  if (f == "method") return std::string(e.method);
  if (f == "host") return std::string(e.host);
  if (f == "protocol") return std::string(e.protocol);
  if (f == "user_agent") return std::string(e.user_agent);
  if (f == "referer") return std::string(e.referer);
  return {};
}

std::string window_engine::group_key(const window_event& e) const {
  std::string key;
  for (const auto& f : cfg_.group_by) {
    key += field_value(e, f);
    key += '\x1f';
  }
  return key;
}

std::vector<std::pair<std::string, std::string>> window_engine::group_fields(const window_event& e) const {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& f : cfg_.group_by) fields.emplace_back(f, field_value(e, f));
  return fields;
}

void window_engine::close_window(int64_t start, string_map<group_state>& groups,
                                 std::vector<window_result>& closed) {
  std::vector<std::pair<const std::string*, group_state*>> sorted;
  for (auto& [k, g] : groups) sorted.emplace_back(&k, &g);
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return *a.first < *b.first; });
  for (auto& [k, g] : sorted)
    closed.push_back({cfg_.name, start, start + cfg_.size.count(), std::move(g->fields), std::move(g->metrics)});
}

void window_engine::advance(int64_t watermark, std::vector<window_result>& closed) {
  watermark_ = watermark;
  if (cfg_.type == window_type::session) {
    std::vector<window_result> done;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto& list = it->second;
      for (auto s = list.begin(); s != list.end();) {
        if (s->last_ms + cfg_.gap.count() <= watermark) {
          done.push_back({cfg_.name, s->first_ms, s->last_ms + cfg_.gap.count(),
                          std::move(s->state.fields), std::move(s->state.metrics)});
          s = list.erase(s);
          --open_sessions_;
        } else {
          ++s;
        }
      }
      if (list.empty()) sessions_.erase(it++);
      else ++it;
    }
    std::sort(done.begin(), done.end(), [](const window_result& a, const window_result& b) {
      return std::tie(a.start_ms, a.group) < std::tie(b.start_ms, b.group);
    });
    for (auto& r : done) closed.push_back(std::move(r));
    return;
  }
  while (!open_.empty() && open_.begin()->first + cfg_.size.count() <= watermark) {
    close_window(open_.begin()->first, open_.begin()->second, closed);
    open_.erase(open_.begin());
  }
}

void window_engine::add(const window_event& e, std::vector<window_result>& closed) {
  touched_.clear();
  const int64_t t = e.time_ms;
  const std::string key = group_key(e);
  if (cfg_.type == window_type::session) {
    const int64_t gap = cfg_.gap.count();
    auto touches = [&](const session& s) { return t >= s.first_ms - gap && t < s.last_ms + gap; };
    auto found = sessions_.find(key);
    const bool joins_open =
      found != sessions_.end() && std::any_of(found->second.begin(), found->second.end(), touches);
    // Late only when no open session takes it and its own would be over.
    if (!joins_open && watermark_ != INT64_MIN && t + gap <= watermark_) {
      ++late_;
      return;
    }
    if (!joins_open && open_sessions_ >= cfg_.max_groups) {
      ++groups_dropped_;
      return;
    }
  } else {
    const int64_t slide = cfg_.type == window_type::sliding ? cfg_.slide.count() : cfg_.size.count();
    if (watermark_ != INT64_MIN && floor_div(t, slide) * slide + cfg_.size.count() <= watermark_) {
      ++late_;
      return;
    }
  }

  // Advance first: a window or session that takes `t` ends after
  // t - lateness, so none of the event's own can close here, and the
  // touched pointers below stay valid.
  if (t > max_time_) {
    max_time_ = t;
    const int64_t wm = t - cfg_.allowed_lateness.count();
    if (wm > watermark_) advance(wm, closed);
  }

  if (cfg_.type == window_type::session) {
    const int64_t gap = cfg_.gap.count();
    auto& list = sessions_[key];
    // Join every session the event touches; they merge through it.
    session joined{t, t, {{}, {}}};
    for (auto s = list.begin(); s != list.end();) {
      if (t >= s->first_ms - gap && t < s->last_ms + gap) {
        joined.first_ms = std::min(joined.first_ms, s->first_ms);
        joined.last_ms = std::max(joined.last_ms, s->last_ms);
        joined.state.metrics.merge(s->state.metrics);
        if (joined.state.fields.empty()) joined.state.fields = std::move(s->state.fields);
        s = list.erase(s);
        --open_sessions_;
      } else {
        ++s;
      }
    }
    if (joined.state.fields.empty()) joined.state.fields = group_fields(e);
    joined.state.metrics.add(e);
    list.push_back(std::move(joined));
    ++open_sessions_;
    const session& s = list.back();
    touched_.push_back({s.first_ms, s.last_ms + gap, &s.state.fields, &s.state.metrics});
    return;
  }
  const int64_t size = cfg_.size.count();
  const int64_t slide = cfg_.type == window_type::sliding ? cfg_.slide.count() : size;
  for (int64_t start = floor_div(t, slide) * slide; start > t - size; start -= slide) {
    if (watermark_ != INT64_MIN && start + size <= watermark_) break;  // already closed
    auto& groups = open_[start];
    auto it = groups.find(key);
    if (it == groups.end()) {
      if (groups.size() >= cfg_.max_groups) {
        ++groups_dropped_;
        continue;
      }
      it = groups.try_emplace(key, group_state{group_fields(e), {}}).first;
    }
    it->second.metrics.add(e);
    touched_.push_back({start, start + size, &it->second.fields, &it->second.metrics});
  }
}

void window_engine::flush(std::vector<window_result>& closed) {
  touched_.clear();
  advance(INT64_MAX, closed);
}

} // namespace vigil
