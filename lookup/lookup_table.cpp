#include "lookup/lookup_table.hpp"

#include <algorithm>
#include <fstream>

#include "csv/csv.hpp"

namespace vigil {

std::shared_ptr<const lookup_table> lookup_table::load(const lookup_config& cfg, std::string& error) {
  std::ifstream in(cfg.path);
  if (!in) {
    error = cfg.path + ": cannot open";
    return nullptr;
  }
  auto t = std::make_shared<lookup_table>();
  t->width_ = cfg.fields.size();
  std::vector<size_t> key_cols, field_cols;
  size_t columns = 0;
  std::string line, key;
  size_t line_no = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto cols = split_csv(line);
    const std::string where = cfg.path + ":" + std::to_string(line_no) + ": ";
    if (header) {
      auto column_of = [&](const std::string& name, std::vector<size_t>& out) {
        auto it = std::find(cols.begin(), cols.end(), name);
        if (it == cols.end()) {
          error = where + "the header has no column \"" + name + "\" (it has: " + line + ")";
          return false;
        }
        out.push_back(static_cast<size_t>(it - cols.begin()));
        return true;
      };
      for (const auto& k : cfg.key)
        if (!column_of(k, key_cols)) return nullptr;
      for (const auto& f : cfg.fields)
        if (!column_of(f, field_cols)) return nullptr;
      columns = cols.size();
      header = false;
      continue;
    }
    if (cols.size() != columns) {
      error = where + "expected " + std::to_string(columns) + " columns (as the header), got " + std::to_string(cols.size());
      return nullptr;
    }
    key.clear();
    for (size_t k = 0; k < key_cols.size(); ++k) {
      if (k > 0) key += key_separator;
      key += cols[key_cols[k]];
    }
    auto [it, fresh] = t->rows_.try_emplace(key, t->values_.size());
    if (fresh) {
      for (size_t c : field_cols) t->values_.push_back(cols[c]);
    } else {
      for (size_t k = 0; k < field_cols.size(); ++k) t->values_[it->second + k] = cols[field_cols[k]];
    }
  }
  if (header) {
    error = cfg.path + ": empty (expected a header line)";
    return nullptr;
  }
  return t;
}

const std::string* lookup_table::find(std::string_view key) const {
  auto it = rows_.find(key);
  return it == rows_.end() ? nullptr : values_.data() + it->second;
}

} // namespace vigil
