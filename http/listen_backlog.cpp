#include "http/listen_backlog.hpp"

#include <httplib.h>
#include <sys/socket.h>

namespace vigil {

namespace {

/// SO_REUSEADDR only: a restarted node binds past its old connections in
/// TIME_WAIT, but a port another process listens on stays refused (the
/// SO_REUSEPORT that httplib's header default sets would let two nodes
/// share it).
void reuse_address(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

} // namespace

int bind_with_backlog(httplib::Server& server, const std::string& host, int port, int backlog) {
  // httplib hands its socket options callback the listening socket before it
  // binds and listens; Linux lets a listening socket listen() again, which
  // only changes its backlog.
  socket_t listening = INVALID_SOCKET;
  server.set_socket_options([&listening](socket_t sock) {
    reuse_address(sock);
    listening = sock;
  });
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  server.set_socket_options(reuse_address);
  if (bound <= 0) return -1;
  if (listening != INVALID_SOCKET) ::listen(listening, backlog);
  return bound;
}

} // namespace vigil
