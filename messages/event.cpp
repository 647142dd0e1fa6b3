#include "messages/event.hpp"

namespace vigil {

text_ref event_batch::append(std::string_view bytes) {
  text_ref r{static_cast<uint32_t>(text.size()), static_cast<uint32_t>(bytes.size())};
  text.append(bytes);
  return r;
}

const char* to_string(agent_class c) noexcept {
  switch (c) {
    case agent_class::browser: return "browser";
    case agent_class::bot: return "bot";
    case agent_class::scanner: return "scanner";
    case agent_class::tool: return "tool";
    default: return "other";
  }
}

bool operator==(const log_event& a, const log_event& b) noexcept {
  return a.time_ms == b.time_ms && a.utc_offset_s == b.utc_offset_s && a.status == b.status
         && a.flags == b.flags && a.classes == b.classes && a.bytes == b.bytes && a.request_time_us == b.request_time_us
         && a.line == b.line && a.path_length == b.path_length && a.raw == b.raw && a.client == b.client
         && a.user == b.user && a.method == b.method && a.target == b.target
         && a.protocol == b.protocol && a.referer == b.referer && a.user_agent == b.user_agent
         && a.vhost == b.vhost && a.agent == b.agent && a.route == b.route;
}

bool operator==(const event_batch& a, const event_batch& b) noexcept {
  return a.source == b.source && a.sequence == b.sequence && a.text == b.text
         && a.events == b.events && a.label_names == b.label_names && a.labels == b.labels
         && a.quarantined == b.quarantined && a.partials == b.partials;
}

} // namespace vigil
