#include "window/event_view.hpp"

namespace vigil {

batch_event_view::batch_event_view(const event_batch& b, const std::vector<std::string>& label_names)
  : batch_(b),
    batch_labels_(b.label_names == label_names ? b.label_names.size() : 0),
    labels_(label_names.size()) {}

const window_event& batch_event_view::at(size_t k) {
  const event_batch& b = batch_;
  const log_event& ev = b.events[k];
  window_event& e = event_;
  e = window_event{};
  e.time_ms = ev.time_ms;
  e.status = ev.status;
  e.bytes = ev.bytes;
  e.request_time_us = ev.has(event_flags::has_request_time) ? ev.request_time_us : -1;
  e.ip = b.view(ev.client);
  e.path = b.path(ev);
  e.method = b.view(ev.method);
  e.host = b.view(ev.vhost);
  e.protocol = b.view(ev.protocol);
  e.user_agent = b.view(ev.user_agent);
  e.referer = b.view(ev.referer);
  e.route = b.view(ev.route);
  e.ua_class = to_string(static_cast<agent_class>(ev.agent));
  e.classes = ev.classes;
  for (size_t j = 0; j < batch_labels_; ++j) labels_[j] = b.view(b.labels[k * batch_labels_ + j]);
  e.labels = labels_.data();
  e.prepare();
  return e;
}

} // namespace vigil
