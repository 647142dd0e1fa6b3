#pragma once

#include <string>

namespace httplib {
class Server;
}

namespace vigil {

/// Binds `server` to `host`:`port` (0: a free port) and listens with a
/// backlog of `backlog` connections. httplib 0.11 listens with a backlog of
/// 5, fixed when Debian built its library: a burst of more clients than
/// that (sixteen shippers posting at once) has its connections dropped, each
/// client waits a second for its retry, and under load one is reset before
/// it is answered, so its sender cannot tell whether its events were taken.
/// Returns the port bound, or -1 (errno set) when the address cannot be had.
int bind_with_backlog(httplib::Server& server, const std::string& host, int port, int backlog = 1024);

} // namespace vigil
