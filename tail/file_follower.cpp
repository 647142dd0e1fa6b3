#include <algorithm>
#include "tail/file_follower.hpp"

#include "hash/stable_hash.hpp"

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil {

struct file_follower::tracked {
  std::string path;         // current name
  int fd = -1;
  file_identity id;
  uint64_t offset = 0;      // bytes read from the file
  uint64_t handed = 0;      // bytes handed on as whole lines (or skipped as a cut line)
  std::string partial;      // bytes of an unfinished line
  std::string head;         // the first fingerprint_bytes (fewer while short)
  bool unsettled = false;   // opened at 0 unrecognised: may be a copy being written
  bool skipping = false;    // inside a line already cut: drop until '\n'
  bool present = true;      // matched by the last scan
  std::chrono::steady_clock::time_point last_growth = std::chrono::steady_clock::now();

  ~tracked() {
    if (fd >= 0) ::close(fd);
  }
};

size_t tail_options::default_max_open_files() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 512;
  return std::max<size_t>(8, std::min<size_t>(512, static_cast<size_t>(limit.rlim_cur / 4)));
}

file_follower::file_follower(tail_options opts) : opts_(std::move(opts)) {
  auto slash = opts_.pattern.rfind('/');
  directory_ = slash == std::string::npos ? "." : opts_.pattern.substr(0, slash);
  if (directory_.empty()) directory_ = "/";
  name_pattern_ = slash == std::string::npos ? opts_.pattern : opts_.pattern.substr(slash + 1);
}

file_follower::~file_follower() {
  files_.clear();
  if (inotify_ >= 0) ::close(inotify_);
}

bool file_follower::fingerprint(int fd, file_identity& id, std::string* head) const {
  std::string bytes(opts_.fingerprint_bytes, '\0');
  ssize_t n = ::pread(fd, bytes.data(), bytes.size(), 0);
  if (n < 0) return false;
  bytes.resize(static_cast<size_t>(n));
  id.fingerprint = stable_hash(bytes);
  id.fingerprint_length = static_cast<uint32_t>(n);
  if (head) *head = std::move(bytes);
  return true;
}

void file_follower::remember_head(const tracked& f) {
  if (f.head.empty()) return;
  auto [it, fresh] = seen_heads_.insert_or_assign(f.head, f.handed);
  if (fresh) seen_order_.push_back(f.head);
  constexpr size_t kept = 4096;
  while (seen_order_.size() > kept) {
    seen_heads_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
}

/// copytruncate copies the file, then truncates it: a scan can meet the
/// copy empty or half written, before its start is long enough to be
/// recognised. While all it holds is the start of a file already read (one
/// followed, or one truncated or let go), and no more than was read of
/// that, it is content already read and is not handed on; once it holds
/// more, reading goes on from where the original was. A file whose start
/// is no other's is new: read from its start (nothing was handed before).
void file_follower::settle_copy(tracked& f, uint64_t size) {
  uint64_t read_of_original = 0;
  bool known = false;
  auto consider = [&](const std::string& head, uint64_t handed) {
    if (head.size() < f.head.size() || head.compare(0, f.head.size(), f.head) != 0) return;
    known = true;
    read_of_original = std::max(read_of_original, handed);
  };
  for (const auto& [key, other] : files_)
    if (other.get() != &f && !other->unsettled) consider(other->head, other->handed);
  int looked = 0;
  for (auto it = seen_heads_.lower_bound(f.head);
       it != seen_heads_.end() && looked < 64 && it->first.compare(0, f.head.size(), f.head) == 0; ++it, ++looked)
    consider(it->first, it->second);
  if (!known) {
    f.offset = f.handed = 0;
    f.unsettled = false;
    return;
  }
  if (size <= read_of_original) {
    f.offset = f.handed = size;  // all of it read already, in the original
    return;
  }
  f.offset = f.handed = read_of_original;
  f.unsettled = false;
}

void file_follower::forget_missing(const std::set<std::pair<uint64_t, uint64_t>>& present) {
  for (auto it = closed_.begin(); it != closed_.end();)
    it = present.count(it->first) ? std::next(it) : closed_.erase(it);
}

bool file_follower::same_start(int fd, const file_identity& before) {
  std::string head(before.fingerprint_length, '\0');
  ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  return n == static_cast<ssize_t>(head.size()) && stable_hash(head) == before.fingerprint;
}

bool file_follower::start(std::string& error, const std::vector<tail_position>& resume) {
  inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_ < 0) {
    error = std::string("inotify: ") + std::strerror(errno);
    return false;
  }
  // One watch on the directory reports creation, renames, deletion and
  // writes of every file in it.
  if (::inotify_add_watch(inotify_, directory_.c_str(),
                          IN_CREATE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE
                            | IN_CLOSE_WRITE | IN_ATTRIB)
      < 0) {
    error = directory_ + ": cannot watch: " + std::strerror(errno);
    return false;
  }
  scan(true, resume);
  return true;
}

/// Whether a file let go of has neither grown nor been written since.
bool file_follower::unchanged(const struct stat& now, const closed_file& c) {
  return static_cast<uint64_t>(now.st_size) == c.handed
         && now.st_mtim.tv_sec * 1000000000ll + now.st_mtim.tv_nsec == c.mtime_ns;
}

void file_follower::scan(bool initial, const std::vector<tail_position>& resume) {
  for (auto& [key, f] : files_) f->present = false;
  DIR* dir = ::opendir(directory_.c_str());
  if (dir == nullptr) return;  // the directory went away: keep draining what is open
  std::vector<std::pair<int64_t, std::string>> candidates;  // by mtime: files to open
  std::set<std::pair<uint64_t, uint64_t>> present;
  while (dirent* entry = ::readdir(dir)) {
    if (::fnmatch(name_pattern_.c_str(), entry->d_name, FNM_PERIOD) != 0) continue;
    std::string path = directory_ + "/" + entry->d_name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    present.insert(key);
    if (auto it = files_.find(key); it != files_.end()) {
      it->second->path = path;  // a rename keeps the inode: same file, new name
      it->second->present = true;
      continue;
    }
    auto closed = closed_.find(key);
    if (closed != closed_.end() && unchanged(st, closed->second))
      continue;  // let go after reading it to its end, and unchanged since
    candidates.emplace_back(st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec, std::move(path));
  }
  ::closedir(dir);
  forget_missing(present);
  // Oldest first, and no more open at once than the limit: the others wait
  // for a descriptor (a file read to its end lets go of its own early).
  std::sort(candidates.begin(), candidates.end());
  unopened_ = 0;
  size_t out_of_descriptors = 0;
  for (auto& [mtime, path] : candidates) {
    if (files_.size() >= opts_.max_open_files) {
      ++unopened_;
      continue;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    auto closed = closed_.find(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: said once with the count, not once per file.
      if (errno == EMFILE || errno == ENFILE) {
        ++out_of_descriptors;
        continue;
      }
      // Said once per file (a permission); tried again at every scan.
      if (unreadable_.insert(path).second) problems_.push_back(path + ": cannot open: " + std::strerror(errno));
      continue;
    }
    unreadable_.erase(path);
    // The name may have moved to another file between stat and open (a
    // rotation): the identity is that of the file actually opened.
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      continue;
    }
    key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    if (auto it = files_.find(key); it != files_.end()) {
      ::close(fd);
      it->second->present = true;
      continue;
    }
    closed = closed_.find(key);
    if (closed != closed_.end() && unchanged(st, closed->second)) {
      ::close(fd);
      continue;
    }
    auto f = std::make_unique<tracked>();
    f->fd = fd;
    f->path = path;
    f->id.device = key.first;
    f->id.inode = key.second;
    fingerprint(fd, f->id, &f->head);
    const bool full_print = f->id.fingerprint_length == opts_.fingerprint_bytes;
    uint64_t start = 0;
    bool found = false;
    if (closed != closed_.end() && closed->second.id.fingerprint_length <= f->id.fingerprint_length
        && same_start(fd, closed->second.id)) {
      // Closed while idle and grown since: same content start, same file.
      start = closed->second.handed;
      found = true;
      f->unsettled = closed->second.unsettled;
    }
    // A checkpoint's file: same inode, and it starts with what was hashed
    // then (it may have grown past a short fingerprint since).
    for (const auto& pos : resume)
      if (!found && pos.id.device == f->id.device && pos.id.inode == f->id.inode
          && pos.id.fingerprint_length <= f->id.fingerprint_length && same_start(fd, pos.id)) {
        start = pos.offset;
        found = true;
      }
    if (!found && full_print) {
      // A copy of content already read (copytruncate's copy, or a closed
      // rotated file seen again under another inode) resumes where we were.
      if (auto it = seen_heads_.find(f->head); it != seen_heads_.end()) {
        start = it->second;
        found = true;
      }
      for (auto& [k, other] : files_)
        if (!found && other->id.fingerprint == f->id.fingerprint
            && other->id.fingerprint_length == f->id.fingerprint_length) {
          start = other->handed;
          found = true;
        }
    }
    // Unrecognised and read from its start: it may yet turn out to be a
    // copy being written (settle_copy decides as it grows).
    if (!found && !(initial && opts_.start_at_end)) f->unsettled = true;
    if (!found && initial && opts_.start_at_end) {
      start = static_cast<uint64_t>(st.st_size);
      // Mid-line: skip to the next line start.
      char last = '\n';
      if (start > 0 && ::pread(fd, &last, 1, static_cast<off_t>(start - 1)) == 1 && last != '\n')
        f->skipping = true;
    }
    f->offset = f->handed = std::min<uint64_t>(start, static_cast<uint64_t>(st.st_size));
    closed_.erase(key);
    files_.emplace(key, std::move(f));
  }
  unopened_ += out_of_descriptors;
  if (out_of_descriptors > 0 && !said_out_of_descriptors_)
    problems_.push_back(std::to_string(out_of_descriptors) + " matching files cannot be opened now: " +
                        std::strerror(EMFILE) + " (the process's descriptor limit, ulimit -n): they wait their turn");
  said_out_of_descriptors_ = out_of_descriptors > 0;
}

size_t file_follower::read_file(tracked& f, std::vector<tail_chunk>& out) {
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return 0;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < f.offset) {
    f.partial.clear();
    if (size > 0 && size >= f.id.fingerprint_length && !f.unsettled && same_start(f.fd, f.id)) {
      // Cut to a shorter length with its start intact: what is left was
      // read. A cut inside a line leaves the rest of that line to skip.
      char last = '\n';
      f.skipping = ::pread(f.fd, &last, 1, static_cast<off_t>(size - 1)) == 1 && last != '\n';
      f.offset = f.handed = size;
    } else {
      // Truncated (copytruncate): what was read stays read; the copy, if
      // it shows up, resumes at the same point; this file starts over.
      if (!f.unsettled) remember_head(f);
      f.offset = f.handed = 0;
      f.skipping = false;
      f.id.fingerprint_length = 0;  // new content, new fingerprint
      f.head.clear();
      f.unsettled = true;
    }
  }
  if (f.id.fingerprint_length < opts_.fingerprint_bytes && size > f.id.fingerprint_length)
    fingerprint(f.fd, f.id, &f.head);
  if (f.unsettled && size != f.offset) settle_copy(f, size);
  if (f.unsettled || size == f.offset) return 0;

  const size_t want = static_cast<size_t>(std::min<uint64_t>(size - f.offset, opts_.max_read_bytes));
  std::string buf(want, '\0');
  ssize_t n = ::pread(f.fd, buf.data(), want, static_cast<off_t>(f.offset));
  if (n <= 0) return 0;
  buf.resize(static_cast<size_t>(n));
  f.offset += static_cast<uint64_t>(n);
  f.last_growth = std::chrono::steady_clock::now();

  tail_chunk chunk;
  chunk.path = f.path;
  chunk.id = f.id;
  chunk.offset = f.handed;
  // Keeps bytes after the last newline for the next read, cutting a
  // partial line that outgrew the cap (enough of it is handed on for the
  // parser to see it is too long; the rest is skipped to its newline).
  auto cut_if_too_long = [&] {
    if (f.partial.size() > opts_.max_line_bytes) {
      chunk.text.append(f.partial, 0, opts_.max_line_bytes + 1);
      chunk.text.push_back('\n');
      f.partial.clear();
      f.skipping = true;
      ++lines_cut_;
    }
  };
  auto keep_partial = [&](size_t from) {
    f.partial.append(buf, from, std::string::npos);
    cut_if_too_long();
  };
  size_t pos = 0;
  if (f.skipping) {
    const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', buf.size()));
    pos = nl ? static_cast<size_t>(nl - buf.data()) + 1 : buf.size();
    f.skipping = nl == nullptr;
  }
  if (!f.partial.empty() && pos < buf.size()) {
    const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', buf.size() - pos));
    if (nl == nullptr) {
      keep_partial(pos);
      pos = buf.size();
    } else {
      const size_t end = static_cast<size_t>(nl - buf.data()) + 1;
      chunk.text = std::move(f.partial);
      chunk.text.append(buf, pos, end - pos);
      f.partial.clear();
      pos = end;
    }
  }
  if (pos < buf.size()) {
    // Whole lines in one piece: the common case hands the read buffer on
    // as it is, no copy.
    const void* last = ::memrchr(buf.data() + pos, '\n', buf.size() - pos);
    if (last == nullptr) {
      keep_partial(pos);
    } else {
      const size_t end = static_cast<size_t>(static_cast<const char*>(last) - buf.data()) + 1;
      f.partial.assign(buf, end, std::string::npos);
      if (chunk.text.empty() && pos == 0) {
        buf.resize(end);
        chunk.text = std::move(buf);
      } else {
        chunk.text.append(buf, pos, end - pos);
      }
      cut_if_too_long();
    }
  }
  f.handed = f.offset - f.partial.size();
  if (chunk.text.empty()) return 0;
  chunk.end_offset = f.handed;
  const size_t bytes = chunk.text.size();
  out.push_back(std::move(chunk));
  return bytes;
}

size_t file_follower::poll(std::vector<tail_chunk>& out) {
  // Drain inotify: the events only tell us to look; the scan decides.
  char events[4096];
  while (inotify_ >= 0 && ::read(inotify_, events, sizeof(events)) > 0) {
  }
  scan(false, {});
  size_t total = 0;
  const auto now = std::chrono::steady_clock::now();
  // Oldest first (by modification time): a rotated file is finished before
  // the file that replaced it, so lines go on in the order they were written.
  using key_type = std::pair<uint64_t, uint64_t>;
  std::vector<std::pair<int64_t, key_type>> order;
  for (const auto& [key, f] : files_) {
    struct stat st;
    const int64_t mtime = ::fstat(f->fd, &st) == 0 ? st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec : 0;
    order.emplace_back(mtime, key);
  }
  std::sort(order.begin(), order.end());
  bool behind = false;  // an older file has more than this poll reads
  uint64_t unread = 0;
  for (const auto& [mtime, key] : order) {
    if (behind) break;
    auto it = files_.find(key);
    tracked& f = *it->second;
    size_t got = 0;
    // Read until caught up, at most 8 reads (8 MiB) per file per poll.
    int rounds = 0;
    for (; rounds < 8; ++rounds) {
      size_t n = read_file(f, out);
      got += n;
      if (n == 0) break;
    }
    behind = rounds == 8;
    total += got;
    struct stat st;
    const bool stat_ok = ::fstat(f.fd, &st) == 0;
    if (stat_ok && static_cast<uint64_t>(st.st_size) > f.offset) unread += static_cast<uint64_t>(st.st_size) - f.offset;
    const bool at_end = stat_ok && static_cast<uint64_t>(st.st_size) == f.offset;
    // Files waiting for a descriptor: one read to its end lets go at once.
    const bool idle = now - f.last_growth >= opts_.close_idle || unopened_ > 0;
    if (at_end && idle && (!f.present || (f.partial.empty() && !f.skipping))) {
      // Finished for now: let go of the descriptor. A file that is gone
      // (deleted, or renamed out of the pattern) hands on an unfinished
      // last line first: its writer is gone too.
      if (!f.present && !f.partial.empty() && !f.skipping) {
        tail_chunk c{f.path, f.id, f.handed, f.handed + f.partial.size(), f.partial + "\n"};
        total += c.text.size();
        f.handed += f.partial.size();
        out.push_back(std::move(c));
      }
      if (!f.unsettled) remember_head(f);
      closed_[it->first] = {f.path, f.id, f.handed, st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec,
                            f.unsettled};
      files_.erase(it);
    }
  }
  unread_bytes_ = unread;
  return total;
}

void file_follower::wait(std::chrono::milliseconds timeout) {
  pollfd p{inotify_, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(timeout.count()));
}

std::vector<tail_position> file_follower::positions() const {
  std::vector<tail_position> out;
  for (const auto& [key, f] : files_) out.push_back({f->path, f->id, f->handed});
  for (const auto& [key, c] : closed_) out.push_back({c.path, c.id, c.handed});
  return out;
}

} // namespace vigil
