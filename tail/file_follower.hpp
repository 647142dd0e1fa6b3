#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

struct stat;

namespace vigil {

/// What makes a file the same file: its inode, and a hash of its first
/// bytes, so a reused inode or a copy of a rotated file is told apart.
struct file_identity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t fingerprint = 0;   ///< hash of the first `fingerprint_bytes`
  uint32_t fingerprint_length = 0;  ///< bytes hashed (fewer while the file is short)

  friend bool operator==(const file_identity& a, const file_identity& b) {
    return a.device == b.device && a.inode == b.inode && a.fingerprint == b.fingerprint
           && a.fingerprint_length == b.fingerprint_length;
  }
};

struct tail_options {
  /// A path whose file name may hold glob characters (`*?[`); the directory
  /// part is literal. Matching files are followed as they appear.
  std::string pattern;
  /// For files present at start without a saved position: read them from
  /// the end (only new lines) instead of from the beginning. Default: false.
  bool start_at_end = false;
  /// Longer lines are cut to this many bytes plus one (so the parser
  /// quarantines them as too long) and the rest skipped. Default: 64 KiB.
  size_t max_line_bytes = 64 * 1024;
  /// Bytes read from one file per poll at most. Default: 1 MiB.
  size_t max_read_bytes = 1u << 20;
  /// Bytes that identify a file's content. Default: 256.
  size_t fingerprint_bytes = 256;
  /// A file read to its end that has had nothing new for this long is
  /// closed (as Filebeat's close_inactive); if it grows later, a scan opens
  /// it again at the same offset. Keeps rotated files from holding
  /// descriptors, and gives a writer still holding a rotated file time to
  /// finish. Default: 5 s.
  std::chrono::milliseconds close_idle{5000};
  /// Files open at most. More matching files wait, oldest first, and a file
  /// read to its end then lets go of its descriptor at once rather than
  /// after `close_idle`. Default: 512, or a quarter of RLIMIT_NOFILE when
  /// that is less (the state store and sockets need descriptors too).
  size_t max_open_files = default_max_open_files();
  static size_t default_max_open_files();
};

/// Whole lines read from one file.
struct tail_chunk {
  std::string path;        ///< the file's name when it was read
  file_identity id;
  uint64_t offset = 0;     ///< file offset of the first byte of `text`
  uint64_t end_offset = 0; ///< file offset just past `text`'s last line
  std::string text;        ///< whole lines, each ending in '\n'
};

/// Where reading of one file stands: what a checkpoint stores.
struct tail_position {
  std::string path;
  file_identity id;
  uint64_t offset = 0;  ///< bytes handed on as whole lines
};

/// Follows the files matching a pattern like a production shipper: driven
/// by inotify, through rename rotation and copytruncate, across new and
/// deleted files, never handing on a partial line. Not thread-safe: one
/// owner (the file source actor) calls it.
class file_follower {
public:
  explicit file_follower(tail_options opts);
  ~file_follower();
  file_follower(const file_follower&) = delete;
  file_follower& operator=(const file_follower&) = delete;

  /// Sets up the inotify watch and finds the files present now. Fails
  /// (with `error`) when the directory cannot be watched.
  bool start(std::string& error, const std::vector<tail_position>& resume = {});

  /// Reads what is new in every followed file; appends one chunk per file
  /// with new whole lines. Returns the number of bytes appended.
  size_t poll(std::vector<tail_chunk>& out);

  /// Waits until inotify reports a change in the directory, or `timeout`.
  void wait(std::chrono::milliseconds timeout);

  /// Positions of the files followed now, and of those let go while idle
  /// (for checkpoints: a restart must not read those again).
  std::vector<tail_position> positions() const;

  /// Files followed now.
  size_t files() const noexcept { return files_.size(); }

  /// Bytes past what was read in the files the last poll looked at (it
  /// stops at a file it could not read to its end: that one's lag, and
  /// newer files', are then not all counted).
  uint64_t unread_bytes() const noexcept { return unread_bytes_; }

  /// Matching files not opened by the last scan: over `max_open_files`.
  size_t unopened() const noexcept { return unopened_; }

  /// What went wrong since last asked, in words (a file that cannot be
  /// opened), each said once.
  std::vector<std::string> take_problems() { return std::exchange(problems_, {}); }

  /// Lines cut because they were longer than `max_line_bytes`.
  uint64_t lines_cut() const noexcept { return lines_cut_; }

private:
  struct tracked;
  void scan(bool initial, const std::vector<tail_position>& resume);
  size_t read_file(tracked& f, std::vector<tail_chunk>& out);
  bool fingerprint(int fd, file_identity& id, std::string* head = nullptr) const;
  /// A file opened at its start with no known identity may be a copy of
  /// content already read, still being written (copytruncate's copy seen
  /// while empty): skips what its start shows was read, see the .cpp.
  void settle_copy(tracked& f, uint64_t size);
  void remember_head(const tracked& f);
  /// Whether the file open as `fd` starts with the bytes `before` hashed.
  static bool same_start(int fd, const file_identity& before);

  tail_options opts_;
  std::string directory_;
  std::string name_pattern_;
  int inotify_ = -1;
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<tracked>> files_;  // by (dev, inode)
  /// Offsets reached in files that were truncated or let go, by their
  /// first `fingerprint_bytes` (fewer for a short file): a copy of such a
  /// file (copytruncate) resumes there. Bounded: the oldest go first.
  std::map<std::string, uint64_t> seen_heads_;
  std::deque<std::string> seen_order_;  // oldest first, to bound seen_heads_
  /// Files let go (idle, or not found by a scan), by (dev, inode), so a
  /// scan opens them again only when they changed, and then where reading
  /// stopped. A file a scan missed may simply have been mid-rename.
  struct closed_file {
    std::string path;
    file_identity id;
    uint64_t handed = 0;
    int64_t mtime_ns = 0;
    bool unsettled = false;  ///< let go while settle_copy had not decided
  };
  std::map<std::pair<uint64_t, uint64_t>, closed_file> closed_;
  /// Closed files a scan of the directory no longer finds (deleted, or
  /// renamed out of the pattern) are dropped: their positions would fill
  /// every checkpoint for ever.
  void forget_missing(const std::set<std::pair<uint64_t, uint64_t>>& present);
  static bool unchanged(const struct stat& now, const closed_file& c);
  uint64_t lines_cut_ = 0;
  size_t unopened_ = 0;
  uint64_t unread_bytes_ = 0;
  std::set<std::string> unreadable_;
  bool said_out_of_descriptors_ = false;
  std::vector<std::string> problems_;
};

} // namespace vigil
