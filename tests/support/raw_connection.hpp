#pragma once

// A raw TCP client for tests of servers under misbehaving clients: it sends
// what it is told (half a request, a header a second) from a loopback
// address of its choice, and reads what comes back without blocking.

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::test {

/// A TCP connection to 127.0.0.1:port that writes what it is given, from
/// `source` (another loopback address stands for another client).
struct raw_connection {
  int fd = -1;
  explicit raw_connection(int port, const char* source = "127.0.0.1") {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      fd = -1;
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~raw_connection() {
    if (fd >= 0) ::close(fd);
  }
  bool send(const std::string& text) const {
    return fd >= 0 && ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  /// What the server sent, or "" after waiting up to `wait` for it; `closed`
  /// is set when the server has closed the connection.
  std::string reply(std::chrono::milliseconds wait, bool* closed = nullptr) const {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      char buf[512];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        if (closed) *closed = true;
        break;
      }
      if (!out.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }
};

/// The value of an unlabelled series in Prometheus text, -1 when absent.
inline double scraped_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}


} // namespace vigil::test
