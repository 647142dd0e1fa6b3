// bind_with_backlog: a burst of connections is queued for the server's
// threads instead of dropped (httplib's own backlog is 5).

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "http/listen_backlog.hpp"

using namespace vigil;

namespace {

/// Starts a non-blocking connect to 127.0.0.1:port; the socket.
int start_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  return fd;
}

/// How many of `fds` completed their connect within `ms` milliseconds.
size_t connected_within(const std::vector<int>& fds, int ms) {
  std::vector<pollfd> polls;
  for (int fd : fds) polls.push_back({fd, POLLOUT, 0});
  size_t done = 0;
  for (int waited = 0; waited <= ms && done < fds.size(); waited += 50) {
    ::poll(polls.data(), polls.size(), 50);
    done = 0;
    for (const auto& p : polls) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if ((p.revents & POLLOUT) && error == 0) ++done;
    }
  }
  return done;
}

} // namespace

TEST_CASE("bind_with_backlog: 64 connections at once are all taken while the server is busy") {
  httplib::Server server;
  // Nothing accepts (listen_after_bind is not called), as when every
  // server thread is busy: the kernel's queue is all there is.
  const int port = bind_with_backlog(server, "127.0.0.1", 0);
  REQUIRE(port > 0);
  std::vector<int> fds;
  for (int i = 0; i < 64; ++i) fds.push_back(start_connect(port));
  // With httplib's backlog of 5, six complete and the rest wait forever.
  CHECK(connected_within(fds, 5000) == fds.size());
  for (int fd : fds) ::close(fd);
}

TEST_CASE("bind_with_backlog: an address of no interface here is -1, not a throw") {
  httplib::Server server;
  CHECK(bind_with_backlog(server, "192.0.2.1", 8080) == -1);  // TEST-NET-1
}

TEST_CASE("bind_with_backlog: a port another server listens on is refused") {
  httplib::Server first, second;
  const int port = bind_with_backlog(first, "127.0.0.1", 0);
  REQUIRE(port > 0);
  CHECK(bind_with_backlog(second, "127.0.0.1", port) == -1);
}
