#pragma once

#include <string_view>

#include "messages/event.hpp"
#include "signature/signature_set.hpp"

namespace vigil {

/// Who a user agent is: the signature classes decide first (a scanner that
/// claims to be Mozilla is a scanner), then a browser is one that says
/// "Mozilla/" or "Opera/"; anything else is unknown ("other").
inline agent_class classify_agent(signature_mask classes, std::string_view user_agent) noexcept {
  if (classes & mask_of(signature_class::scanner)) return agent_class::scanner;
  if (classes & mask_of(signature_class::tool)) return agent_class::tool;
  if (classes & (mask_of(signature_class::bot) | mask_of(signature_class::badbot))) return agent_class::bot;
  if (user_agent.rfind("Mozilla/", 0) == 0 || user_agent.rfind("Opera/", 0) == 0) return agent_class::browser;
  return agent_class::unknown;
}

} // namespace vigil
