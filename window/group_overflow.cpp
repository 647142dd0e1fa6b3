#include "window/group_overflow.hpp"

#include <arpa/inet.h>

namespace vigil {

std::string network_of(std::string_view value) {
  char text[INET6_ADDRSTRLEN + 8] = {};
  if (value.empty() || value.size() >= INET6_ADDRSTRLEN) return std::string(overflow_value);
  std::string address(value);
  unsigned char bytes[16] = {};
  if (address.find(':') == std::string::npos) {
    if (::inet_pton(AF_INET, address.c_str(), bytes) != 1) return std::string(overflow_value);
    bytes[3] = 0;
    ::inet_ntop(AF_INET, bytes, text, sizeof text);
    return std::string(text) + "/24";
  }
  if (::inet_pton(AF_INET6, address.c_str(), bytes) != 1) return std::string(overflow_value);
  for (int i = 8; i < 16; ++i) bytes[i] = 0;
  ::inet_ntop(AF_INET6, bytes, text, sizeof text);
  return std::string(text) + "/64";
}

} // namespace vigil
