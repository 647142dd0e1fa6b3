#include "pipeline/sink_preflight.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace vigil {

bool sinks_can_open(const vigil_config& cfg, std::string& error) {
  for (const auto& s : cfg.sinks) {
    if (s.type != sink_type::jsonl && s.type != sink_type::csv) continue;
    const auto dir = std::filesystem::path(s.path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        error = "sink " + s.name + ": cannot create the directory " + dir.string() + " for " + s.path + ": "
                + ec.message();
        return false;
      }
    }
    const int fd = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      error = "sink " + s.name + ": cannot open " + s.path + " for appending: " + std::strerror(errno);
      return false;
    }
    ::close(fd);
  }
  return true;
}

} // namespace vigil
