#include "messages/errc.hpp"

#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

namespace vigil {

std::string to_string(errc e) {
  switch (e) {
    case errc::bad_frame: return "bad_frame";
    case errc::unsupported_version: return "unsupported_version";
    case errc::limit_exceeded: return "limit_exceeded";
    case errc::input_failed: return "input_failed";
    case errc::cancelled: return "cancelled";
    case errc::busy: return "busy";
    case errc::unavailable: return "unavailable";
  }
  return "unknown";
}

std::string render_error(uint8_t code, caf::atom_value, const caf::message& context) {
  std::string out = "vigil::" + to_string(static_cast<errc>(code));
  if (!context.empty()) {
    out += ": ";
    if (context.size() == 1 && context.match_element<std::string>(0))
      out += context.get_as<std::string>(0);
    else
      out += caf::to_string(context);
  }
  return out;
}

} // namespace vigil
