#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "settings/duration.hpp"

namespace vigil {

/// Incidents `vigil gen access` can inject, each into its own slice of time.
enum class incident_kind : uint8_t {
  scan,        ///< one client probing sensitive paths: 404s, scanner agent
  bruteforce,  ///< one client failing logins: POST /wp-login.php -> 401
  error_spike, ///< half of all requests answered 5xx
  latency,     ///< request times of /api/search ten times slower
  surge,       ///< /api/search asked four times as often, from many clients (no rule names it)
};

std::string_view to_string(incident_kind k) noexcept;
std::optional<incident_kind> incident_from_string(std::string_view name) noexcept;

struct access_workload_options {
  uint64_t seed = 1;
  double rate = 1000;                        ///< background lines per second of event time
  duration_ms duration{60000};
  int64_t start_ms = 1704067200000;          ///< 2024-01-01T00:00:00Z unless given
  bool request_time = false;                 ///< append a request time (combined_rt)
  uint32_t clients = 500;                    ///< distinct background clients
  std::vector<incident_kind> incidents;
};

/// When and from whom an incident comes, for tests and the summary line.
struct incident_plan {
  incident_kind kind;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string client;  ///< the offending client, "" for fleet-wide incidents
  uint64_t lines = 0;  ///< lines it adds (background lines it alters count not)
};

/// A deterministic access-log workload: the same options give the same
/// bytes on every machine (own PRNG, no std:: distributions).
class access_generator {
public:
  explicit access_generator(access_workload_options opts);

  /// Appends every line with event time before `until_ms` to `out`, in time
  /// order. Returns the number of lines appended.
  size_t generate_until(int64_t until_ms, std::string& out);

  /// True when every line of the workload was generated.
  bool done() const noexcept;

  int64_t end_ms() const noexcept { return opts_.start_ms + opts_.duration.count(); }
  uint64_t lines() const noexcept { return lines_; }
  const std::vector<incident_plan>& incidents() const noexcept { return plans_; }

private:
  struct stream {  // one source of lines: background or an incident
    incident_kind kind;
    bool background;
    double rate;
    uint64_t next = 0;
    int64_t start_ms, end_ms;
    int64_t time_of(uint64_t i) const { return start_ms + static_cast<int64_t>(i * 1000.0 / rate); }
  };

  uint64_t random();
  uint64_t below(uint64_t n) { return random() % n; }
  void background_line(int64_t t, std::string& out);
  void incident_line(const stream& s, int64_t t, std::string& out);
  void write_line(std::string& out, int64_t t, std::string_view client, std::string_view method,
                  std::string_view target, int status, uint64_t bytes, std::string_view referer,
                  std::string_view agent, uint64_t request_time_us);
  bool active(incident_kind k, int64_t t) const;

  access_workload_options opts_;
  uint64_t state_;
  std::vector<stream> streams_;
  std::vector<incident_plan> plans_;
  uint64_t lines_ = 0;
  int64_t cached_second_ = INT64_MIN;
  char cached_stamp_[32] = {};
};

} // namespace vigil
