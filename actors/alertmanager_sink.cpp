#include "actors/alertmanager_sink.hpp"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"

namespace vigil {

namespace {

/// Resolves sent lately, posted again every resend interval until they are
/// `repeat_resolves_for` old, from a thread of its own.
class resolve_repeater {
public:
  resolve_repeater(webhook_sender& sender, const alertmanager_sink_config& cfg) : sender_(sender), cfg_(cfg) {
    thread_ = std::thread([this] { run(); });
  }
  ~resolve_repeater() {
    {
      std::lock_guard<std::mutex> guard(lock_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void resolved(const std::string& id, const std::string& line) {
    std::lock_guard<std::mutex> guard(lock_);
    recent_[id] = {line, wall_clock_ms()};
  }
  void firing(const std::string& id) {  // fired again (a replay, a new window): no longer resolved
    std::lock_guard<std::mutex> guard(lock_);
    recent_.erase(id);
  }

private:
  void run() {
    std::unique_lock<std::mutex> lock(lock_);
    const auto every = std::chrono::milliseconds(cfg_.format.resend_interval_ms);
    while (!wake_.wait_for(lock, every, [this] { return stopping_; })) {
      const int64_t now = wall_clock_ms();
      std::vector<std::string> due;
      for (auto it = recent_.begin(); it != recent_.end();) {
        if (now - it->second.second > cfg_.repeat_resolves_for.count()) {
          it = recent_.erase(it);
          continue;
        }
        due.push_back(it->second.first);
        ++it;
      }
      if (!due.empty()) sender_.post(alertmanager_body(due, now, cfg_.format));
    }
  }

  webhook_sender& sender_;
  const alertmanager_sink_config cfg_;
  std::mutex lock_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, std::pair<std::string, int64_t>> recent_;  // id -> (line, resolved at)
  std::thread thread_;
};

struct alertmanager_state {
  std::unique_ptr<webhook_sender> sender;
  std::unique_ptr<resolve_repeater> repeater;
  static inline const char* name = "alertmanager_sink";
};

} // namespace

line_sink_actor spawn_alertmanager_sink(caf::actor_system& sys, const alertmanager_sink_config& cfg) {
  auto behavior = [cfg](line_sink_actor::stateful_pointer<alertmanager_state> self) -> line_sink_actor::behavior_type {
    webhook_options http = cfg.http;
    while (!http.url.empty() && http.url.back() == '/') http.url.pop_back();
    http.url += "/api/v2/alerts";
    self->state.sender = std::make_unique<webhook_sender>(http);
    self->state.repeater = std::make_unique<resolve_repeater>(*self->state.sender, cfg);
    return {
      [=](write_atom, const std::vector<std::string>& lines) -> uint64_t {
        auto& st = self->state;
        for (const auto& line : lines) {
          const auto a = nlohmann::json::parse(line, nullptr, false);
          if (!a.is_object()) continue;
          if (a.value("status", "") == "resolved") st.repeater->resolved(a.value("id", ""), line);
          else st.repeater->firing(a.value("id", ""));
        }
        st.sender->post(alertmanager_body(lines, wall_clock_ms(), cfg.format));
        return lines.size();
      },
      // Blocks this actor's own thread (it is detached), bounded by the timeout.
      [=](flush_atom) -> bool { return self->state.sender->drain(cfg.http.timeout); },
      // Not a checkpoint participant: what was posted cannot be taken back
      // (alerts are at-least-once, with stable ids).
      [=](checkpoint_atom, uint64_t) {},
    };
  };
  return sys.spawn<caf::detached>(behavior);
}

} // namespace vigil
