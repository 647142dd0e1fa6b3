#pragma once

// A real PostgreSQL server for a test: initdb into a fresh directory,
// pg_ctl on a loopback port, stopped (and the directory removed) at scope
// exit. Debian's `postgresql` package (deploy/install-deps.sh) provides the
// binaries. Run as root, the server runs as the `postgres` user, as
// PostgreSQL refuses root. Queries go through psql, so that the crash
// torture driver, which links no library, uses it too.

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace vigil::test {

class postgres_server {
public:
  /// Starts a server on `port`; `ok()` says whether it did (`error()` why).
  explicit postgres_server(int port) : port_(port) {
    for (const auto& v : {"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"})
      if (std::filesystem::exists(std::string(v) + "/pg_ctl")) bin_ = v;
    if (bin_.empty()) {
      error_ = "no PostgreSQL under /usr/lib/postgresql (deploy/install-deps.sh installs postgresql)";
      return;
    }
    char tmpl[] = "/tmp/vigil-pg-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    if (::geteuid() == 0) {
      as_ = "runuser -u postgres -- ";
      run("chown postgres " + dir_);
    }
    if (run(as_ + bin_ + "/initdb -D " + dir_ + "/data -U postgres --auth=trust -E UTF8 --no-sync --no-instructions > " +
            dir_ + "/initdb.log 2>&1") != 0) {
      error_ = "initdb failed: see " + dir_ + "/initdb.log";
      return;
    }
    ok_ = start();
  }

  ~postgres_server() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  /// A libpq connection string for database `db`.
  std::string dsn(const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + db + " user=postgres";
  }

  /// Starts (again): true once it takes connections.
  bool start() {
    const std::string options = "-p " + std::to_string(port_) + " -k " + dir_ +
                                " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40";
    if (run(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o '" + options +
            "' start > /dev/null 2>&1") != 0) {
      error_ = "pg_ctl start failed: see " + dir_ + "/server.log";
      return false;
    }
    running_ = true;
    return true;
  }

  /// Stops it at once (connections are cut, as when a server goes away).
  void stop() {
    if (!running_) return;
    run(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m fast -w stop > /dev/null 2>&1");
    running_ = false;
  }

  /// psql's unaligned output of `sql` (rows by line, fields by '|');
  /// `exit_code` is psql's.
  std::string query(const std::string& sql, const std::string& db = "postgres", int* exit_code = nullptr) const {
    const std::string file = dir_ + "/query.sql";
    if (FILE* f = std::fopen(file.c_str(), "w")) {
      std::fputs(sql.c_str(), f);
      std::fclose(f);
    }
    const std::string cmd = "psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(port_) +
                            " -U postgres -d '" + db + "' -f " + file + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
      const int status = ::pclose(p);
      if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return out;
  }

private:
  static int run(const std::string& cmd) {
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  int port_;
  std::string bin_, dir_, as_, error_;
  bool ok_ = false, running_ = false;
};

} // namespace vigil::test
