#include "window/group_overflow.hpp"

#include <cstring>

#include <arpa/inet.h>

namespace vigil {

void append_network_of(std::string_view value, std::string& out) {
  // inet_pton wants a terminated string: copied to the stack, not the heap.
  char address[INET6_ADDRSTRLEN] = {};
  unsigned char bytes[16] = {};
  char text[INET6_ADDRSTRLEN] = {};
  if (value.empty() || value.size() >= sizeof address) {
    out += overflow_value;
    return;
  }
  std::memcpy(address, value.data(), value.size());
  const bool v6 = value.find(':') != std::string_view::npos;
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, address, bytes) != 1) {
    out += overflow_value;
    return;
  }
  if (v6) std::memset(bytes + 8, 0, 8);
  else bytes[3] = 0;
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text, sizeof text);
  out += text;
  out += v6 ? "/64" : "/24";
}

} // namespace vigil
