#include "http/guarded_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace vigil {

namespace {

using clock_type = std::chrono::steady_clock;

/// The address a connection is counted under: an IPv4 address as is, an
/// IPv6 one by its /64 (one host usually holds the whole /64, and would
/// otherwise have 2^64 shares).
std::string client_of(socket_t sock) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return text;
  }
  if (addr.ss_family == AF_INET6) {
    auto v6 = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      ::inet_ntop(AF_INET, v6.s6_addr + 12, text, sizeof text);
      return text;
    }
    std::memset(v6.s6_addr + 8, 0, 8);
    ::inet_ntop(AF_INET6, &v6, text, sizeof text);
    return std::string(text) + "/64";
  }
  return "?";
}

/// A stream whose reads fail once its deadline has passed: httplib reads a
/// request through it, so a request that trickles in ends at the deadline
/// instead of at the client's leisure.
class deadline_stream final : public httplib::Stream {
public:
  explicit deadline_stream(httplib::Stream& inner) : inner_(inner) {}

  void restart(clock_type::time_point deadline) noexcept { deadline_ = deadline; }
  bool expired() const noexcept { return expired_; }

  bool is_readable() const override { return inner_.is_readable(); }
  bool is_writable() const override { return inner_.is_writable(); }
  ssize_t read(char* ptr, size_t size) override {
    if (clock_type::now() >= deadline_) {
      expired_ = true;
      return -1;
    }
    return inner_.read(ptr, size);
  }
  ssize_t write(const char* ptr, size_t size) override { return inner_.write(ptr, size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { inner_.get_remote_ip_and_port(ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { inner_.get_local_ip_and_port(ip, port); }
  socket_t socket() const override { return inner_.socket(); }

private:
  httplib::Stream& inner_;
  clock_type::time_point deadline_ = clock_type::time_point::max();
  bool expired_ = false;
};

void close_connection(socket_t sock) {
  ::shutdown(sock, SHUT_RDWR);
  httplib::detail::close_socket(sock);
}

} // namespace

bool guarded_server::process_and_close_socket(socket_t sock) {
  const std::string client = client_of(sock);
  if (!admit(client)) {
    // Said, not just dropped, so that a person behind a busy proxy learns
    // why; never waits on the client.
    static constexpr char busy[] =
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
    (void)::send(sock, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    close_connection(sock);
    return false;
  }
  bool expired = false;
  const bool ok = httplib::detail::process_client_socket(
    sock, read_timeout_sec_, read_timeout_usec_, write_timeout_sec_, write_timeout_usec_,
    [this, &expired](httplib::Stream& strm) {
      deadline_stream guarded(strm);
      bool served = true;
      // httplib's keep-alive, less its idle poll: between requests the
      // read timeout bounds the wait for the next one.
      for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
        guarded.restart(clock_type::now() + limits_.request_deadline);
        bool closed = false;
        served = process_request(guarded, left == 1, closed, nullptr);
        // httplib answers a request cut off at the deadline with a 400 and
        // would read on; the connection ends there instead.
        if (!served || closed || guarded.expired()) break;
      }
      expired = guarded.expired();
      return served;
    });
  close_connection(sock);
  release(client);
  if (expired) ++counts_->timed_out;
  return ok;
}

bool guarded_server::admit(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& n = open_[client];
  if (n >= limits_.max_per_client) {
    ++counts_->refused;
    return false;
  }
  ++n;
  return true;
}

void guarded_server::release(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = open_.find(client);
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

} // namespace vigil
