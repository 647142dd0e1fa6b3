#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

/// A node's counters and gauges, rendered in the Prometheus text format
/// (0.0.4) for `GET /metrics`. Thread-safe: the node's loop sets values,
/// the HTTP thread renders them. Values the node already keeps elsewhere
/// (atomic counters) are read by a hook just before each render, rather
/// than copied on every change.
class metrics_registry {
public:
  using labels = std::vector<std::pair<std::string, std::string>>;
  enum class kind { counter, gauge, histogram };

  /// Declares metric `name` (e.g. "vigil_peer_up") once, with its help text.
  void describe(const std::string& name, kind k, const std::string& help);
  /// Sets the series `name{labels}` (declared first) to `value`.
  void set(const std::string& name, const labels& l, double value);
  /// Adds `delta` to the series `name{labels}`.
  void add(const std::string& name, const labels& l, double delta = 1);
  /// Sets the histogram `name{labels}` (declared with kind histogram):
  /// `cumulative[i]` observations at or below `bounds[i]`, then `count`
  /// in all (the +Inf bucket) and their `sum`.
  void set_histogram(const std::string& name, const labels& l, const std::vector<double>& bounds,
                     const std::vector<uint64_t>& cumulative, uint64_t count, double sum);
  /// Runs before every render, on the rendering thread.
  void on_render(std::function<void(metrics_registry&)> hook);

  /// Every declared metric with its series, label values escaped.
  std::string render();

private:
  struct family {
    kind type = kind::gauge;
    std::string help;
    std::map<std::string, double> series;  // by rendered label set
    // kind histogram: by rendered label set, its lines after the name, in order
    std::map<std::string, std::vector<std::pair<std::string, double>>> histograms;
  };
  static void write_number(std::ostream& out, double v);
  static std::string number_text(double v);  // a histogram bound, for its `le`
  static std::string label_text(const labels& l);

  std::mutex lock_;
  std::map<std::string, family> families_;
  std::vector<std::function<void(metrics_registry&)>> hooks_;
};

} // namespace vigil
