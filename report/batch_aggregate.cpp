#include "report/batch_aggregate.hpp"

#include <algorithm>

#include "enrich/attack_record.hpp"
#include "enrich/path_classifier.hpp"
#include "parse/timestamp.hpp"
#include "sort/radix_sort.hpp"

namespace vigil {

namespace {

inline uint64_t pack(uint64_t hi, uint32_t lo) noexcept { return (hi << 32) | lo; }

} // namespace

void add_activity(span_list& spans, activity_span s, uint32_t gap) {
  // Fast path: logs are mostly in time order, so the new point usually
  // extends or touches the last span.
  if (!spans.empty()) {
    auto& last = spans.back();
    if (s.first >= last.first && uint64_t{s.first} <= uint64_t{last.last} + gap) {
      last.last = std::max(last.last, s.last);
      return;
    }
  }
  auto it = std::lower_bound(spans.begin(), spans.end(), s,
                             [](const activity_span& a, const activity_span& b) {
                               return a.first < b.first;
                             });
  it = spans.insert(it, s);
  // Coalesce with the neighbours that are now within the gap.
  if (it != spans.begin()) {
    auto prev = it - 1;
    if (uint64_t{prev->last} + gap >= it->first) {
      prev->last = std::max(prev->last, it->last);
      it = spans.erase(it) - 1;
    }
  }
  while (it + 1 != spans.end() && uint64_t{it->last} + gap >= (it + 1)->first) {
    it->last = std::max(it->last, (it + 1)->last);
    spans.erase(it + 1);
  }
}

batch_aggregate::batch_aggregate(aggregate_options opts)
  : opts_(std::move(opts)), scanner_(opts_.signatures) {}

void batch_aggregate::close_minute(client_stats& c) {
  if (c.open.requests == 0) return;
  client_minutes.push_back({pack(c.id, static_cast<uint32_t>(c.open_minute)), c.open});
  c.open = client_minute{};
}

std::vector<batch_aggregate::client_minute_run>
combined_client_minutes(std::vector<batch_aggregate::client_minute_run> runs) {
  radix_sort(runs, [](const batch_aggregate::client_minute_run& r) { return r.key; });
  size_t out = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (out > 0 && runs[out - 1].key == runs[i].key) {
      auto& c = runs[out - 1].counts;
      c.requests += runs[i].counts.requests;
      c.not_found += runs[i].counts.not_found;
      c.auth_failures += runs[i].counts.auth_failures;
    } else {
      runs[out++] = runs[i];
    }
  }
  runs.resize(out);
  return runs;
}

void batch_aggregate::seal() {
  if (sealed) return;
  for (auto& [key, c] : clients) close_minute(c);
  radix_sort(line_hashes, [](uint64_t h) { return h; });
  line_hashes.erase(std::unique(line_hashes.begin(), line_hashes.end()), line_hashes.end());
  sealed = true;
}

void batch_aggregate::add(const event_batch& b, uint32_t input, uint64_t sequence) {
  int64_t cached_hour = INT64_MIN;
  hour_stats* hour = nullptr;
  if (!b.events.empty()) sealed = false;
  for (const log_event& e : b.events) {
    ++valid;
    bytes += e.bytes;
    ++status[e.status < status.size() ? e.status : 0];
    first_ms = std::min(first_ms, e.time_ms);
    last_ms = std::max(last_ms, e.time_ms);

    auto [cit, new_client] = clients.try_emplace(b.view(e.client));
    client_stats& client = cit->second;
    if (new_client) client.id = static_cast<uint32_t>(clients.size() - 1);
    ++client.hits;
    client.bytes += e.bytes;
    client.first_ms = std::min(client.first_ms, e.time_ms);
    client.last_ms = std::max(client.last_ms, e.time_ms);

    auto [ait, new_agent] = agents.try_emplace(b.view(e.user_agent));
    agent_stats& agent = ait->second;
    if (new_agent) {
      agent.id = static_cast<uint32_t>(agents.size() - 1);
      agent.classes = classify_header(scanner_, signature_field::ua, ait->first, decode_buffer_);
    }
    ++agent.hits;

    const std::string_view path_text = b.path(e);
    auto [pit, new_path] = paths.try_emplace(path_text);
    path_stats& path = pit->second;
    if (new_path) {
      path.id = static_cast<uint32_t>(paths.size() - 1);
      path.classes = classify_path(scanner_, path_text, decode_buffer_).classes;
    }
    ++path.hits;
    path.bytes += e.bytes;

    signature_mask classes = path.classes | agent.classes;
    const request_view request{b.view(e.method), b.view(e.target), e.path_length, b.view(e.referer),
                               b.view(e.user_agent), e.status, e.has(event_flags::request_malformed)};
    if (!request.query().empty()) {
      auto qit = query_classes_.find(request.query());
      if (qit == query_classes_.end()) {
        if (query_classes_.size() >= 65536) query_classes_.clear();
        qit = query_classes_.emplace(request.query(), classify_query(scanner_, request.query(), decode_buffer_)).first;
      }
      classes |= qit->second;
    }
    if (!e.referer.empty()) {
      auto [rit, new_referrer] = referrers.try_emplace(request.referer);
      referrer_stats& r = rit->second;
      if (new_referrer) r.classes = classify_header(scanner_, signature_field::referer, rit->first, decode_buffer_);
      ++r.hits;
      r.bytes += e.bytes;
      classes |= r.classes;
    }
    classes |= classify_request_line(request.method, request.target, e.status, request.malformed);
    if (opts_.keep_attacks && (classes & attack_mask) != 0) {
      if (attacks.size() >= opts_.attack_limit) {
        ++attacks_dropped;
      } else {
        attack_record& a = attacks.emplace_back();
        a.input = input;
        a.sequence = sequence;
        a.line = e.line;
        a.time_ms = e.time_ms;
        a.status = e.status;
        a.attacks = explain_attacks(scanner_, request, decode_buffer_);
        a.client.assign(b.view(e.client));
        a.method.assign(request.method);
        a.target.assign(request.target.substr(0, opts_.attack_text_bytes));
        a.user_agent.assign(request.user_agent.substr(0, opts_.attack_text_bytes));
      }
    }

    const bool is_static = (classes & mask_of(signature_class::static_file)) != 0;
    const bool is_page = !is_static && e.status < 400;
    page_views += is_page;
    static_hits += is_static;
    bot_hits += (classes & mask_of(signature_class::bot)) != 0;
    missing_bytes += e.has(event_flags::bytes_missing);
    missing_referer += e.has(event_flags::referer_missing);
    missing_agent += e.has(event_flags::agent_missing);
    truncated_agent += e.has(event_flags::agent_truncated);
    missing_request += e.has(event_flags::request_missing);

    const int64_t secs = floor_div(e.time_ms, 1000);
    const int64_t hour_key = floor_div(secs, 3600) * 3600;
    if (hour_key != cached_hour) {
      hour = &hours[hour_key];
      cached_hour = hour_key;
    }
    ++hour->hits;
    hour->bytes += e.bytes;
    hour->page_views += is_page;
    hour->status_4xx += e.status >= 400 && e.status < 500;
    hour->status_5xx += e.status >= 500;

    if (const auto m = b.view(e.method); m != last_method_ || !last_method_count_) {
      auto it = methods.try_emplace(m).first;
      last_method_ = it->first;
      last_method_count_ = &it->second;
    }
    ++*last_method_count_;
    if (const auto p = b.view(e.protocol); p != last_protocol_ || !last_protocol_count_) {
      auto it = protocols.try_emplace(p).first;
      last_protocol_ = it->first;
      last_protocol_count_ = &it->second;
    }
    ++*last_protocol_count_;
    if (e.status == 404) {
      ++path.hits_404;
      path.bytes_404 += e.bytes;
      key_buffer_.assign(b.view(e.method));
      key_buffer_ += ' ';
      key_buffer_ += b.view(e.target);
      key_buffer_ += ' ';
      key_buffer_ += b.view(e.protocol);
      if (!not_found_requests.contains(key_buffer_)) not_found_requests.insert(key_buffer_);
    } else if (e.status >= 500) {
      ++path.hits_5xx;
      path.bytes_5xx += e.bytes;
    }
    if (e.has(event_flags::has_request_time)) {
      const auto us = static_cast<uint64_t>(std::max<int64_t>(e.request_time_us, 0));
      request_times_us.push_back(static_cast<uint32_t>(std::min<uint64_t>(us, UINT32_MAX)));
      request_time_max_us = std::max(request_time_max_us, us);
      ++path.timed;
      path.time_sum_us += us;
      path.time_max_us = std::max(path.time_max_us, us);
    }

    // Consecutive lines of one visitor skip the table; the pointer stays
    // valid because the table only changes here, when the visitor changes.
    const uint64_t visitor = pack(client.id, agent.id);
    const auto day = static_cast<int32_t>(local_day(log_time{e.time_ms, e.utc_offset_s}));
    if (visitor != last_visitor_) {
      last_activity_ = &visitors[visitor];
      last_visitor_ = visitor;
      last_day_ = INT32_MIN;
    }
    if (day != last_day_) {
      add_day(last_activity_->days, day);
      last_day_ = day;
    }
    const auto t = static_cast<uint32_t>(std::max<int64_t>(secs, 0));
    add_activity(last_activity_->spans, activity_span{t, t}, opts_.session_gap_s);

    const int64_t minute = floor_div(secs, 60);
    if (minute != client.open_minute) {
      close_minute(client);
      client.open_minute = minute;
    }
    ++client.open.requests;
    client.open.not_found += e.status == 404;
    const bool auth_failure = (e.status == 401 || e.status == 403) && (classes & mask_of(signature_class::auth)) != 0;
    client.open.auth_failures += auth_failure;

    // Findings: each attack class, and failed logins (the `auth` finding).
    const signature_mask finding_classes = (classes & attack_mask) | (auth_failure ? mask_of(signature_class::auth) : 0);
    for (signature_mask m = classes; m != 0; m &= static_cast<signature_mask>(m - 1))
      ++class_hits[static_cast<uint32_t>(__builtin_ctz(m))];
    client.served_probes += (finding_classes & payload_mask) == mask_of(signature_class::probe) && e.status < 400;
    for (signature_mask m = finding_classes; m != 0; m &= static_cast<signature_mask>(m - 1)) {
      const auto cls = static_cast<uint32_t>(__builtin_ctz(m));
      ++attacks_by_client[pack(cls, client.id)];
      ++attacks_by_path[pack(cls, path.id)];
    }

    line_hashes.push_back(string_hash{}(b.view(e.raw)));
  }
}

void batch_aggregate::add_failures(uint32_t input, uint64_t sequence, const event_batch& batch,
                                   const std::vector<line_failure>& failures) {
  for (const auto& f : failures) {
    ++failed_by_reason[static_cast<size_t>(f.reason)];
    if (quarantine.size() >= opts_.quarantine_limit) {
      ++quarantine_dropped;
      continue;
    }
    std::string_view text = batch.view(f.text);
    quarantine.push_back({input, sequence, f.line, f.reason,
                          std::string(text.substr(0, opts_.quarantine_line_bytes))});
  }
}

void batch_aggregate::add_chunk(uint32_t input, uint64_t sequence, const line_counts& counts) {
  lines += counts.lines;
  empty_lines += counts.empty_lines;
  chunks.push_back({sequence, input, static_cast<uint32_t>(counts.lines + counts.empty_lines)});
}

} // namespace vigil
