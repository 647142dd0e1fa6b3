#include "transport/peer_table.hpp"

namespace vigil {

peer_table::peer_table(std::vector<std::string> peers, std::chrono::milliseconds down_after)
  : down_after_(down_after) {
  for (auto& p : peers) peers_[std::move(p)];
}

bool peer_table::heard(const std::string& name, clock::time_point now) {
  auto it = peers_.find(name);
  if (it == peers_.end()) return false;
  it->second.last = now;
  it->second.up = true;
  return true;
}

std::vector<peer_table::change> peer_table::check(clock::time_point now) {
  std::vector<change> out;
  for (auto& [name, p] : peers_) {
    const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - p.last);
    if (p.up && silent >= down_after_) p.up = false;
    if (p.up != p.reported_up) {
      out.push_back({name, p.up, p.up ? std::chrono::milliseconds(0) : silent});
      p.reported_up = p.up;
    }
  }
  return out;
}

bool peer_table::up(const std::string& name) const {
  auto it = peers_.find(name);
  return it != peers_.end() && it->second.up;
}

size_t peer_table::up_count() const {
  size_t n = 0;
  for (const auto& [name, p] : peers_) n += p.up;
  return n;
}

} // namespace vigil
