#include "messages/object_budget.hpp"

#include <msgpack.hpp>

namespace vigil {

namespace {

/// Every object but the root is an array item or a map key or value: the
/// announced sizes add up to the objects an unpack would make.
struct object_counter : msgpack::null_visitor {
  size_t left;
  bool over = false;
  explicit object_counter(size_t budget) : left(budget) {}
  bool take(size_t n) {
    if (n > left) {
      over = true;
      return false;
    }
    left -= n;
    return true;
  }
  bool start_array(uint32_t n) { return take(n); }
  bool start_map(uint32_t n) { return take(2 * static_cast<size_t>(n)); }
};

} // namespace

bool within_object_budget(const char* data, size_t size, size_t budget) {
  if (budget == 0) return false;
  object_counter counter(budget - 1);
  try {
    msgpack::parse(data, size, counter);
  } catch (const std::exception&) {
  }
  return !counter.over;
}

} // namespace vigil
