#include "dimension/cidr_table.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <arpa/inet.h>

#include "csv/csv.hpp"
#include "hash/stable_hash.hpp"

namespace vigil {

namespace {

ip_bytes masked(const ip_bytes& ip, int length) noexcept {
  ip_bytes out{};
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(length - 8 * i, 0, 8);
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(ip[static_cast<size_t>(i)] & (0xff00 >> bits));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

} // namespace

std::optional<ip_bytes> parse_ip(std::string_view text) noexcept {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  ip_bytes out{};
  if (text.find(':') == std::string_view::npos) {
    in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  return out;
}

size_t cidr_table::key_hash::operator()(const ip_bytes& k) const noexcept {
  return static_cast<size_t>(stable_hash(std::string_view(reinterpret_cast<const char*>(k.data()), k.size())));
}

bool cidr_table::add(std::string_view cidr, std::string& error) {
  auto slash = cidr.find('/');
  std::string_view addr = cidr.substr(0, slash);
  auto ip = parse_ip(addr);
  if (!ip) {
    error = "\"" + std::string(cidr) + "\" is not an IP address or CIDR prefix";
    return false;
  }
  const bool v4 = addr.find(':') == std::string_view::npos;
  int length = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view bits = cidr.substr(slash + 1);
    length = 0;
    if (bits.empty() || bits.size() > 3) length = -1;
    for (char ch : bits) length = ch >= '0' && ch <= '9' && length >= 0 ? length * 10 + (ch - '0') : -1;
    if (length < 0 || length > (v4 ? 32 : 128)) {
      error = "\"" + std::string(cidr) + "\": prefix length must be 0.." + (v4 ? "32" : "128");
      return false;
    }
  }
  if (v4) length += 96;
  const uint32_t row = static_cast<uint32_t>(size());
  if (!by_length_[static_cast<size_t>(length)].emplace(masked(*ip, length), row).second) {
    error = "\"" + std::string(cidr) + "\" is listed twice";
    return false;
  }
  if (std::find(lengths_.begin(), lengths_.end(), length) == lengths_.end()) {
    lengths_.push_back(length);
    std::sort(lengths_.rbegin(), lengths_.rend());
  }
  return true;
}

std::shared_ptr<const cidr_table> cidr_table::from_rows(std::vector<std::string> fields,
                                                        const std::vector<std::vector<std::string>>& rows,
                                                        std::string& error) {
  auto t = std::make_shared<cidr_table>();
  t->fields_ = std::move(fields);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() != t->fields_.size() + 1) {
      error = "row " + std::to_string(i + 1) + ": expected " + std::to_string(t->fields_.size() + 1)
              + " columns, got " + std::to_string(r.size());
      return nullptr;
    }
    if (!t->add(r[0], error)) return nullptr;
    t->rows_.insert(t->rows_.end(), r.begin() + 1, r.end());
  }
  return t;
}

std::shared_ptr<const cidr_table> cidr_table::load(const std::string& path,
                                                   const std::vector<std::string>& fields,
                                                   std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return nullptr;
  }
  auto t = std::make_shared<cidr_table>();
  t->fields_ = fields;
  std::string line;
  size_t line_no = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    auto cols = split_csv(line);
    auto where = path + ":" + std::to_string(line_no) + ": ";
    if (header) {
      std::vector<std::string> expected{"cidr"};
      expected.insert(expected.end(), fields.begin(), fields.end());
      if (cols != expected) {
        std::string want;
        for (const auto& c : expected) want += (want.empty() ? "" : ",") + c;
        error = where + "header must be \"" + want + "\" (the dimension's fields)";
        return nullptr;
      }
      header = false;
      continue;
    }
    if (cols.size() != fields.size() + 1) {
      error = where + "expected " + std::to_string(fields.size() + 1) + " columns, got "
              + std::to_string(cols.size());
      return nullptr;
    }
    std::string why;
    if (!t->add(cols[0], why)) {
      error = where + why;
      return nullptr;
    }
    t->rows_.insert(t->rows_.end(), cols.begin() + 1, cols.end());
  }
  if (header) {
    error = path + ": empty (expected a header \"cidr,...\")";
    return nullptr;
  }
  return t;
}

int64_t cidr_table::find(std::string_view ip) const noexcept {
  if (lengths_.empty()) return -1;
  auto addr = parse_ip(ip);
  if (!addr) return -1;
  for (int length : lengths_) {
    const auto& m = by_length_[static_cast<size_t>(length)];
    if (auto it = m.find(masked(*addr, length)); it != m.end()) return it->second;
  }
  return -1;
}

} // namespace vigil
