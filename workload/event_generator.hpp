#pragma once

#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// The event streams `vigil gen events` writes.
enum class event_kind : uint8_t {
  orders,  ///< shop events: view, cart, purchase with price, quantity, payment
  clicks,  ///< page clicks with device and referrer
  ysb,     ///< the Yahoo Streaming Benchmark's ad events
};
std::optional<event_kind> event_kind_from_string(std::string_view name) noexcept;

/// Incidents, each in its own slice of the stream's time.
enum class event_incident : uint8_t {
  revenue_drop,      ///< purchases fall to a fifth
  payment_failures,  ///< 40% of payments fail
  schema_drift,      ///< a new field appears and quantity turns into a string
  duplicates,        ///< 5% of events are sent twice
  late,              ///< 2% of events are five minutes behind
  bad,               ///< malformed JSON and out-of-range values (see bad_rate)
};
std::string_view to_string(event_incident i) noexcept;
std::optional<event_incident> event_incident_from_string(std::string_view name) noexcept;

struct event_workload_options {
  event_kind kind = event_kind::orders;
  uint64_t seed = 1;
  double rate = 1000;             ///< events per second of event time
  uint64_t count = 0;             ///< events in all; 0: rate * duration
  int64_t duration_ms = 60000;
  int64_t start_ms = 1704067200000;  ///< 2024-01-01T00:00:00Z unless given
  std::vector<event_incident> incidents;
  double bad_rate = 0.01;         ///< `bad`: share of events broken
};

/// A deterministic event workload: the same options give the same bytes on
/// every machine (own PRNG, no std:: distributions).
class event_generator {
public:
  explicit event_generator(event_workload_options opts);

  /// Appends every event with event time before `until_ms`, in order.
  size_t generate_until(int64_t until_ms, std::string& out);
  bool done() const noexcept { return next_ >= total_; }
  uint64_t events() const noexcept { return next_; }
  uint64_t total() const noexcept { return total_; }
  int64_t end_ms() const noexcept;

  /// The reference table the events refer to: products.csv (orders),
  /// campaigns.csv (ysb); "" for clicks.
  std::string table_name() const;
  std::string table_csv() const;
  /// The events file's name in an output directory.
  std::string events_name() const;

  /// When each incident runs, for the summary line.
  struct slice {
    event_incident incident;
    int64_t start_ms, end_ms;
  };
  const std::vector<slice>& slices() const noexcept { return slices_; }

private:
  uint64_t random();
  uint64_t below(uint64_t n) { return random() % n; }
  std::string uuid(uint64_t a, uint64_t b) const;
  bool active(event_incident i, int64_t t) const;
  void order_event(int64_t t, std::string& out);
  void click_event(int64_t t, std::string& out);
  void ysb_event(int64_t t, std::string& out);
  int64_t time_of(uint64_t i) const;
  std::vector<slice> make_slices() const;

  event_workload_options opts_;
  uint64_t state_;
  uint64_t next_ = 0, total_ = 0;
  std::vector<std::string> ads_, campaigns_;  // ysb: 1000 ads, 100 campaigns
  std::vector<slice> slices_;
};

/// The YSB check: the views per campaign and 10 s window recomputed from
/// `events_path` and `campaigns_path`, compared with the window results in
/// `results_path`: correct, or the first difference.
struct ysb_verdict {
  bool correct = false;
  std::string detail;  ///< what was compared, or the first difference
};
ysb_verdict ysb_check(const std::string& events_path, const std::string& campaigns_path, const std::string& results_path);

/// Views per (campaign id, window start ms).
using ysb_counts = std::map<std::pair<std::string, int64_t>, uint64_t>;

/// The same check against counts read from elsewhere (a database table).
ysb_verdict ysb_check_counts(const std::string& events_path, const std::string& campaigns_path, const ysb_counts& actual);

/// Expected against actual: correct, or the first difference.
ysb_verdict ysb_compare(const ysb_counts& expected, const ysb_counts& actual, uint64_t events);

} // namespace vigil
