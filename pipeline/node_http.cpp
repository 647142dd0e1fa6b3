#include "pipeline/node_http.hpp"

#include "actors/line_sink.hpp"
#include "metrics/http_endpoint.hpp"
#include "metrics/process_metrics.hpp"
#include "metrics/registry.hpp"
#include "pipeline/node_counters.hpp"
#include "pipeline/node_metrics.hpp"
#include "pipeline/node_status.hpp"

namespace vigil {

node_http::node_http(const vigil_config& cfg, std::shared_ptr<const node_counters> counters)
  : registry_(std::make_shared<metrics_registry>()) {
  if (cfg.node.http.empty()) return;
  auto& r = *registry_;
  add_node_metrics(r, counters);
  r.set("vigil_node_info", {{"node", cfg.node.name}, {"role", "single"}}, 1);
  add_process_metrics(r);
  auto unready = [started = started_, counters]() -> std::string {
    if (!started->load()) return "starting";
    for (const auto& t : counters->sources->all())
      if (std::string problem = t->access_problem(); !problem.empty()) return "source " + t->source + ": " + problem;
    if (int n = counters->checkpoints->failing_in_a_row.load())
      return "the last " + std::to_string(n) + " checkpoint(s) failed";
    if (size_t n = failing_sinks()) return std::to_string(n) + " sink(s) failing to write";
    return "";
  };
  status_ = std::make_unique<node_status>(cfg.node.name, "single", counters, unready);
  http_ = std::make_unique<http_endpoint>(cfg.node.http, registry_, unready, status_pages(*status_));
}

node_http::~node_http() {
  http_.reset();  // no page reads the status after this
  status_.reset();
}

int node_http::port() const noexcept { return http_ ? http_->port() : 0; }

} // namespace vigil
