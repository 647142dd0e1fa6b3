#include "parse/json_parser.hpp"

#include <algorithm>
#include <cstring>

#include "parse/timestamp.hpp"

namespace vigil {

namespace od = simdjson::ondemand;

namespace {

constexpr std::pair<std::string_view, json_role> role_names[] = {
  {"client", json_role::client},       {"user", json_role::user},
  {"time", json_role::time},           {"request", json_role::request},
  {"method", json_role::method},       {"path", json_role::target},
  {"protocol", json_role::protocol},   {"status", json_role::status},
  {"bytes", json_role::bytes},         {"referer", json_role::referer},
  {"user_agent", json_role::user_agent}, {"request_time", json_role::request_time},
  {"vhost", json_role::vhost},
};

inline bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string_view trim_right(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string_view to_string(json_role r) noexcept {
  for (auto& [name, role] : role_names)
    if (role == r) return name;
  return "unknown";
}

json_fields json_fields::defaults() {
  json_fields f;
  auto add = [&](json_role r, std::initializer_list<const char*> keys) {
    for (auto k : keys) f.names.emplace_back(k, r);
  };
  add(json_role::client, {"ip", "client", "client_ip", "remote_addr", "remote_ip", "host_ip"});
  add(json_role::user, {"user", "remote_user"});
  add(json_role::time, {"time", "timestamp", "@timestamp", "time_iso8601", "time_local", "ts"});
  add(json_role::request, {"request"});
  add(json_role::method, {"method", "request_method", "verb"});
  add(json_role::target, {"path", "uri", "request_uri", "url", "target"});
  add(json_role::protocol, {"protocol", "server_protocol", "http_version"});
  add(json_role::status, {"status", "status_code", "response"});
  add(json_role::bytes, {"bytes", "body_bytes_sent", "bytes_sent", "size", "response_size"});
  add(json_role::referer, {"referer", "referrer", "http_referer"});
  add(json_role::user_agent, {"user_agent", "ua", "agent", "http_user_agent", "useragent"});
  add(json_role::request_time, {"request_time", "duration", "response_time"});
  add(json_role::vhost, {"vhost", "server_name", "http_host", "host"});
  return f;
}

bool json_fields::set(std::string_view role, std::string name) {
  for (auto& [rname, r] : role_names) {
    if (rname != role) continue;
    json_role target = r;
    names.erase(std::remove_if(names.begin(), names.end(),
                               [&](const auto& n) { return n.second == target || n.first == name; }),
                names.end());
    names.emplace_back(std::move(name), target);
    return true;
  }
  return false;
}

json_line_parser::json_line_parser(const json_fields& fields, time_unit request_time_unit)
  : request_time_unit_(request_time_unit) {
  for (auto& [name, role] : fields.names) roles_.emplace(name, role);
}

parse_error json_line_parser::parse(std::string_view line, uint32_t base, event_batch& batch,
                                    log_event& ev) {
  ev.flags = 0;
  const size_t need = line.size() + simdjson::SIMDJSON_PADDING;
  if (padded_.size() < need) padded_.resize(need);
  std::memcpy(padded_.data(), line.data(), line.size());
  std::memset(padded_.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  if (parser_.iterate(padded_.data(), line.size(), padded_.size()).get(doc))
    return parse_error::bad_json;
  od::object obj;
  if (doc.get_object().get(obj)) return parse_error::bad_json;

  const text_ref none{base + static_cast<uint32_t>(line.size()), 0};
  ev.client = ev.user = ev.method = ev.target = ev.protocol = ev.referer = ev.user_agent =
    ev.vhost = none;
  ev.path_length = 0;
  bool have_time = false, have_status = false, have_client = false, have_request = false;
  text_ref request{};

  // A string field as a reference: into the line when it has no escapes,
  // else unescaped and appended to the batch.
  auto string_ref = [&](od::value& v, text_ref& out) -> bool {
    std::string_view tok = trim_right(v.raw_json_token());
    if (tok.size() < 2 || tok.front() != '"') return false;
    std::string_view inner = tok.substr(1, tok.size() - 2);
    if (std::memchr(inner.data(), '\\', inner.size()) == nullptr) {
      out = text_ref{base + static_cast<uint32_t>(inner.data() - padded_.data()),
                     static_cast<uint32_t>(inner.size())};
      return true;
    }
    std::string_view unescaped;
    if (v.get_string().get(unescaped)) return false;
    out = batch.append(unescaped);
    return true;
  };
  // An integer that may be written as a number or a string of digits.
  auto integer = [&](od::value& v, uint64_t& out) -> bool {
    std::string_view tok = trim_right(v.raw_json_token());
    if (!tok.empty() && tok.front() == '"') tok = tok.substr(1, tok.size() - 2);
    if (!all_digits(tok) || tok.size() > 19) return false;
    uint64_t x = 0;
    for (char c : tok) x = x * 10 + static_cast<uint64_t>(c - '0');
    out = x;
    return true;
  };

  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field)) return parse_error::bad_json;
    std::string_view key;
    if (field.unescaped_key().get(key)) return parse_error::bad_json;
    auto it = roles_.find(key);
    if (it == roles_.end()) continue;
    od::value v = field.value();
    switch (it->second) {
      case json_role::client: have_client = string_ref(v, ev.client) && !ev.client.empty(); break;
      case json_role::user: string_ref(v, ev.user); break;
      case json_role::method: string_ref(v, ev.method); break;
      case json_role::protocol: string_ref(v, ev.protocol); break;
      case json_role::referer: string_ref(v, ev.referer); break;
      case json_role::user_agent: string_ref(v, ev.user_agent); break;
      case json_role::vhost: string_ref(v, ev.vhost); break;
      case json_role::request: have_request = string_ref(v, request); break;
      case json_role::target:
        if (string_ref(v, ev.target)) {
          std::string_view t = batch.view(ev.target);
          auto q = t.find('?');
          ev.path_length = static_cast<uint32_t>(q == std::string_view::npos ? t.size() : q);
        }
        break;
      case json_role::status: {
        uint64_t s;
        if (!integer(v, s) || s < 100 || s > 599) return parse_error::bad_status;
        ev.status = static_cast<uint16_t>(s);
        have_status = true;
        break;
      }
      case json_role::bytes: {
        uint64_t n;
        std::string_view tok = trim_right(v.raw_json_token());
        if (tok == "\"-\"" || tok == "null") {
          ev.flags |= event_flags::bytes_missing;
        } else if (integer(v, n)) {
          ev.bytes = n;
        } else {
          return parse_error::bad_bytes;
        }
        break;
      }
      case json_role::request_time: {
        std::string_view tok = trim_right(v.raw_json_token());
        if (!tok.empty() && tok.front() == '"') tok = tok.substr(1, tok.size() - 2);
        int64_t us;
        if (parse_request_time(tok, request_time_unit_, us)) {
          ev.request_time_us = us;
          ev.flags |= event_flags::has_request_time;
        }
        break;
      }
      case json_role::time: {
        std::string_view tok = trim_right(v.raw_json_token());
        log_time t;
        if (!tok.empty() && tok.front() == '"') {
          std::string_view s = tok.substr(1, tok.size() - 2);
          if (!parse_rfc3339_time(s, t) && !parse_clf_time(s, t)) return parse_error::bad_timestamp;
        } else {
          double d;
          if (v.get_double().get(d) || d < 0 || d > 1e15) return parse_error::bad_timestamp;
          // Epoch seconds, or milliseconds when too large to be seconds.
          t.utc_ms = d > 1e11 ? static_cast<int64_t>(d) : static_cast<int64_t>(d * 1000.0);
          t.offset_s = 0;
        }
        ev.time_ms = t.utc_ms;
        ev.utc_offset_s = t.offset_s;
        have_time = true;
        break;
      }
    }
  }

  if (!have_time) return parse_error::missing_field;
  if (!have_status) return parse_error::missing_field;
  if (!have_client) return parse_error::missing_field;
  if (have_request && ev.target.empty()) {
    std::string_view r = batch.view(request);
    if (auto err = split_request_line(r, request.offset, ev); err != parse_error::none) return err;
  } else if (ev.target.empty()) {
    return parse_error::missing_field;
  }
  if (ev.referer.empty() || batch.view(ev.referer) == "-") {
    ev.referer = none;
    ev.flags |= event_flags::referer_missing;
  }
  if (ev.user_agent.empty() || batch.view(ev.user_agent) == "-") {
    ev.user_agent = none;
    ev.flags |= event_flags::agent_missing;
  }
  return parse_error::none;
}

} // namespace vigil
