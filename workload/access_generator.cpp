#include "workload/access_generator.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "parse/timestamp.hpp"

namespace vigil {

namespace {

constexpr const char* browsers[] = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "curl/8.4.0",
};
constexpr const char* pages[] = {"/", "/products", "/cart", "/checkout", "/about", "/blog",
                                 "/account", "/contact"};
constexpr const char* assets[] = {"/static/app.js", "/static/site.css", "/images/logo.png",
                                  "/favicon.ico", "/images/hero.jpg"};
constexpr const char* words[] = {"shoes", "lamp", "chair", "phone", "coffee", "desk", "bag"};
constexpr const char* probes[] = {
  "/.env", "/.git/config", "/wp-admin/", "/phpmyadmin/", "/config.php", "/backup.sql",
  "/.aws/credentials", "/server-status", "/actuator/env", "/vendor/phpunit/src/Util/PHP/eval-stdin.php",
  "/../../etc/passwd", "/admin.php.bak", "/wp-config.php", "/.htpasswd", "/solr/admin/", "/HNAP1"};

} // namespace

std::string_view to_string(incident_kind k) noexcept {
  switch (k) {
    case incident_kind::scan: return "scan";
    case incident_kind::bruteforce: return "bruteforce";
    case incident_kind::error_spike: return "5xx";
    case incident_kind::latency: return "latency";
    case incident_kind::surge: return "surge";
  }
  return "?";
}

std::optional<incident_kind> incident_from_string(std::string_view name) noexcept {
  for (auto k : {incident_kind::scan, incident_kind::bruteforce, incident_kind::error_spike,
                 incident_kind::latency, incident_kind::surge})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

access_generator::access_generator(access_workload_options opts)
  : opts_(std::move(opts)), state_(opts_.seed * 0x9E3779B97F4A7C15ull + 1) {
  const int64_t start = opts_.start_ms, dur = opts_.duration.count();
  streams_.push_back({incident_kind::scan, true, std::max(opts_.rate, 0.001), 0, start, start + dur});
  // Each incident gets its own slice: the k-th of n starts at (k+1)/(n+2) of
  // the run and lasts a tenth of it (at least 60 s when the run allows), so
  // they do not overlap and each crosses at least one whole minute window.
  const size_t n = opts_.incidents.size();
  for (size_t k = 0; k < n; ++k) {
    const incident_kind kind = opts_.incidents[k];
    int64_t s = start + dur * static_cast<int64_t>(k + 1) / static_cast<int64_t>(n + 2);
    int64_t len = std::min<int64_t>(std::max<int64_t>(dur / 10, 60000), dur / static_cast<int64_t>(n + 2));
    incident_plan plan{kind, s, s + len, "", 0};
    double rate = 0;
    if (kind == incident_kind::scan) {
      plan.client = "203.0.113." + std::to_string(10 + below(200));
      rate = 2;  // 120 probes a minute from one client
    } else if (kind == incident_kind::bruteforce) {
      plan.client = "198.51.100." + std::to_string(10 + below(200));
      rate = 1;  // 60 failed logins a minute
    } else if (kind == incident_kind::surge) {
      rate = opts_.rate * 0.3;  // search is a tenth of the background: four times that
    }
    if (rate > 0) {
      streams_.push_back({kind, false, rate, 0, plan.start_ms, plan.end_ms});
      plan.lines = static_cast<uint64_t>(static_cast<double>(len) / 1000.0 * rate);
    }
    plans_.push_back(plan);
  }
}

uint64_t access_generator::random() {
  // splitmix64: tiny, fast, identical everywhere.
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool access_generator::active(incident_kind k, int64_t t) const {
  for (const auto& p : plans_)
    if (p.kind == k && t >= p.start_ms && t < p.end_ms) return true;
  return false;
}

bool access_generator::done() const noexcept {
  for (const auto& s : streams_)
    if (s.time_of(s.next) < s.end_ms) return false;
  return true;
}

void access_generator::write_line(std::string& out, int64_t t, std::string_view client,
                                  std::string_view method, std::string_view target, int status,
                                  uint64_t bytes, std::string_view referer, std::string_view agent,
                                  uint64_t request_time_us) {
  const int64_t second = t / 1000;
  if (second != cached_second_) {
    // [10/Oct/2000:13:55:36 +0000], from the RFC 3339 form.
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::string iso = format_rfc3339_utc(second * 1000);
    std::snprintf(cached_stamp_, sizeof(cached_stamp_), "%.2s/%s/%.4s:%.8s +0000", iso.c_str() + 8,
                  months[std::stoi(iso.substr(5, 2)) - 1], iso.c_str(), iso.c_str() + 11);
    cached_second_ = second;
  }
  char num[64];
  out.append(client).append(" - - [").append(cached_stamp_).append("] \"").append(method);
  out.append(" ").append(target).append(" HTTP/1.1\" ");
  std::snprintf(num, sizeof(num), "%d %" PRIu64, status, bytes);
  out.append(num).append(" \"").append(referer).append("\" \"").append(agent).append("\"");
  if (opts_.request_time) {
    std::snprintf(num, sizeof(num), " %" PRIu64 ".%03" PRIu64, request_time_us / 1000000,
                  request_time_us / 1000 % 1000);
    out.append(num);
  }
  out.push_back('\n');
  ++lines_;
}

void access_generator::background_line(int64_t t, std::string& out) {
  // Popularity is skewed: u^2 puts most picks near the front of each list.
  auto skewed = [&](uint64_t n) {
    double u = static_cast<double>(random() >> 11) / 9007199254740992.0;
    return static_cast<uint64_t>(u * u * static_cast<double>(n));
  };
  const uint64_t c = skewed(opts_.clients);
  // Client n is 10.0.0.0 + n + 1: a valid address for every n (the old
  // "last octet + 1" wrote 10.0.0.256).
  const uint64_t n = c + 1;
  char client[32];
  std::snprintf(client, sizeof(client), "10.%u.%u.%u", static_cast<unsigned>(n >> 16 & 255),
                static_cast<unsigned>(n >> 8 & 255), static_cast<unsigned>(n & 255));
  const char* agent = browsers[(c * 7 + c / 3) % std::size(browsers)];
  std::string target;
  int status = 200;
  uint64_t bytes = 0;
  uint64_t time_us = 2000 + below(40000);
  const uint64_t kind = below(100);
  if (kind < 45) {
    target = assets[skewed(std::size(assets))];
    bool cached = below(4) == 0;
    status = cached ? 304 : 200;
    bytes = cached ? 0 : 1000 + below(60000);
    time_us /= 4;
  } else if (kind < 75) {
    target = pages[skewed(std::size(pages))];
    bytes = 5000 + below(20000);
  } else if (kind < 88) {
    target = "/products/" + std::to_string(1 + skewed(2000));
    bytes = 8000 + below(10000);
  } else if (kind < 98) {
    target = "/api/search?q=" + std::string(words[below(std::size(words))]);
    bytes = 500 + below(3000);
    time_us *= 3;
    if (active(incident_kind::latency, t)) time_us *= 10;
  } else {
    target = "/old/page-" + std::to_string(below(500));
    status = 404;
    bytes = 300;
  }
  if (active(incident_kind::error_spike, t) && below(100) < 50) {
    static constexpr int codes[] = {500, 502, 503};
    status = codes[below(3)];
    bytes = 0;
  }
  const char* referer = below(3) == 0 ? "-" : "https://shop.example/";
  write_line(out, t, client, "GET", target, status, bytes, referer, agent, time_us);
}

void access_generator::incident_line(const stream& s, int64_t t, std::string& out) {
  const incident_plan* plan = nullptr;
  for (const auto& p : plans_)
    if (p.kind == s.kind) plan = &p;
  if (s.kind == incident_kind::scan)
    write_line(out, t, plan->client, "GET", probes[below(std::size(probes))], 404, 200 + below(100),
               "-", "Mozilla/5.0 zgrab/0.x", 1000 + below(3000));
  else if (s.kind == incident_kind::surge) {
    char client[32];
    std::snprintf(client, sizeof(client), "10.200.%u.%u", static_cast<unsigned>(below(256)),
                  static_cast<unsigned>(below(256)));
    write_line(out, t, client, "GET", "/api/search?q=" + std::string(words[below(std::size(words))]), 200,
               500 + below(3000), "https://shop.example/", browsers[below(std::size(browsers))], 6000 + below(120000));
  } else
    write_line(out, t, plan->client, "POST", "/wp-login.php", 401, 400, "-",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", 20000 + below(20000));
}

size_t access_generator::generate_until(int64_t until_ms, std::string& out) {
  size_t written = 0;
  for (;;) {
    // The stream whose next line is earliest (ties: background first).
    stream* next = nullptr;
    int64_t best = INT64_MAX;
    for (auto& s : streams_) {
      int64_t t = s.time_of(s.next);
      if (t < s.end_ms && t < best) {
        best = t;
        next = &s;
      }
    }
    if (!next || best >= until_ms) return written;
    if (next->background) background_line(best, out);
    else incident_line(*next, best, out);
    ++next->next;
    ++written;
  }
}

} // namespace vigil
