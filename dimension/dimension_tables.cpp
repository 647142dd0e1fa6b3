#include "dimension/dimension_tables.hpp"

#include <spdlog/spdlog.h>

namespace vigil {

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size
         && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

} // namespace

dimension_tables::dimension_tables(std::vector<dimension_config> configs)
  : configs_(std::move(configs)), tables_(configs_.size()) {
  refresh();
}

void dimension_tables::refresh() {
  std::lock_guard<std::mutex> guard(lock_);
  for (size_t i = 0; i < configs_.size(); ++i) {
    const auto& d = configs_[i];
    auto& t = tables_[i];
    struct stat now {};
    if (::stat(d.path.c_str(), &now) != 0) {
      if (!t.tried) spdlog::error("dimension {}: cannot read {}", d.name, d.path);
      t.tried = true;
      continue;
    }
    if (t.tried && same_file(now, t.seen)) continue;
    const bool reload = t.tried;
    t.tried = true;
    t.seen = now;
    std::string error;
    auto table = cidr_table::load(d.path, d.fields, error);
    if (!table) {
      spdlog::error("dimension {}: {}{}", d.name, error, t.table ? " (keeping the table loaded before)" : "");
      continue;
    }
    t.table = std::move(table);
    spdlog::info("dimension {}: {} {} networks from {}", d.name, reload ? "reloaded" : "loaded", t.table->size(),
                 d.path);
  }
}

std::vector<std::shared_ptr<const cidr_table>> dimension_tables::snapshot() const {
  std::lock_guard<std::mutex> guard(lock_);
  std::vector<std::shared_ptr<const cidr_table>> out;
  out.reserve(tables_.size());
  for (const auto& t : tables_) out.push_back(t.table);
  return out;
}

} // namespace vigil
