#include "tail/source_access.hpp"

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

namespace vigil {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

} // namespace

std::string source_access_problem(const std::string& pattern) {
  const auto slash = pattern.rfind('/');
  std::string dir = slash == std::string::npos ? "." : pattern.substr(0, slash);
  if (dir.empty()) dir = "/";
  const std::string name = slash == std::string::npos ? pattern : pattern.substr(slash + 1);

  struct stat st {};
  if (::stat(pattern.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return pattern + " is a directory: a file source follows files (did you mean " + pattern
           + (pattern.back() == '/' ? "" : "/") + "*.log?)";
  if (::stat(dir.c_str(), &st) != 0)
    return "cannot read the directory " + dir + " of " + pattern + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return dir + " (in " + pattern + ") is not a directory";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return "cannot read the directory " + dir + " of " + pattern + ": " + std::strerror(errno);
  std::string other;  // the first match that is not a regular file
  bool regular = false;
  while (dirent* entry = ::readdir(d)) {
    if (::fnmatch(name.c_str(), entry->d_name, FNM_PERIOD) != 0) continue;
    const std::string path = dir + "/" + entry->d_name;
    if (::stat(path.c_str(), &st) != 0) {
      if (other.empty()) other = path + " (" + std::strerror(errno) + ")";
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      regular = true;
      break;
    }
    if (other.empty()) other = path + " is " + kind_of(st.st_mode);
  }
  ::closedir(d);
  if (regular) return "";
  if (!other.empty()) return "no regular file matches " + pattern + " yet (" + other + ")";
  return "no file matches " + pattern + " yet";
}

} // namespace vigil
