#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <spdlog/spdlog.h>

namespace vigil {

/// Reference tables loaded from files, shared by every stage of a node,
/// reloaded when their file changes. Thread-safe: any stage may ask for a
/// refresh (the first to see a file changed reloads it; the others find it
/// done), and each takes a snapshot per batch, so a reload swaps whole
/// tables between batches. A reload that fails keeps the table in use,
/// logged as `FILE:LINE: what`.
template <class Table>
class watched_tables {
public:
  struct entry {
    std::string name;  ///< for logs: "dimension geo", "lookup products"
    std::string path;
  };
  /// Loads entry `i`, or returns null with `error` set.
  using loader = std::function<std::shared_ptr<const Table>(size_t i, std::string& error)>;

  watched_tables(std::vector<entry> entries, loader load, std::string rows_noun)
    : entries_(std::move(entries)), load_(std::move(load)), noun_(std::move(rows_noun)), tables_(entries_.size()) {
    refresh();
  }

  /// Loads tables whose file changed since last looked at.
  void refresh() {
    std::lock_guard<std::mutex> guard(lock_);
    for (size_t i = 0; i < entries_.size(); ++i) {
      const auto& e = entries_[i];
      auto& t = tables_[i];
      struct stat now {};
      if (::stat(e.path.c_str(), &now) != 0) {
        if (!t.tried) spdlog::error("{}: cannot read {}", e.name, e.path);
        t.tried = true;
        continue;
      }
      if (t.tried && same_file(now, t.seen)) continue;
      const bool reload = t.tried;
      t.tried = true;
      t.seen = now;
      std::string error;
      auto table = load_(i, error);
      if (!table) {
        spdlog::error("{}: {}{}", e.name, error, t.table ? " (keeping the table loaded before)" : "");
        ++failed_reloads_;
        continue;
      }
      t.table = std::move(table);
      ++generation_;
      spdlog::info("{}: {} {} {} from {}", e.name, reload ? "reloaded" : "loaded", t.table->size(), noun_, e.path);
    }
  }

  /// The tables in use, in entry order (null: not loaded).
  std::vector<std::shared_ptr<const Table>> snapshot() const {
    std::lock_guard<std::mutex> guard(lock_);
    std::vector<std::shared_ptr<const Table>> out;
    out.reserve(tables_.size());
    for (const auto& t : tables_) out.push_back(t.table);
    return out;
  }

  /// Loads that took (first loads included) and reloads that failed.
  uint64_t generation() const {
    std::lock_guard<std::mutex> guard(lock_);
    return generation_;
  }
  uint64_t failed_reloads() const {
    std::lock_guard<std::mutex> guard(lock_);
    return failed_reloads_;
  }

private:
  static bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size
           && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
  }
  struct loaded {
    std::shared_ptr<const Table> table;
    struct stat seen {};  // the file as it was when last (re)loaded or tried
    bool tried = false;
  };
  const std::vector<entry> entries_;
  loader load_;
  std::string noun_;
  mutable std::mutex lock_;
  std::vector<loaded> tables_;
  uint64_t generation_ = 0, failed_reloads_ = 0;
};

} // namespace vigil
