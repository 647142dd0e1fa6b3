#include <cstdint>

#include <catch2/catch.hpp>

#include "window/group_counters.hpp"

using vigil::group_counters;

TEST_CASE("group counters are 4 bytes each until one would not fit, then all 8, and no count is cut") {
  static_assert(sizeof(group_counters<14>) <= 64, "14 small counters in 56 bytes and a pointer");
  group_counters<3> c;
  c.add(0, 7);
  c.add(1, UINT32_MAX - 1);
  REQUIRE_FALSE(c.wide());
  c.add(1, 1);  // exactly UINT32_MAX: still fits
  REQUIRE_FALSE(c.wide());
  CHECK(c[1] == UINT32_MAX);
  c.add(1, 1);
  REQUIRE(c.wide());
  CHECK(c[0] == 7);
  CHECK(c[1] == uint64_t{UINT32_MAX} + 1);
  CHECK(c[2] == 0);
  c.add(2, uint64_t{1} << 40);
  CHECK(c[2] == uint64_t{1} << 40);

  group_counters<3> copy = c;  // a deep copy: the wide counters are its own
  copy.add(0, 1);
  CHECK(copy[0] == 8);
  CHECK(c[0] == 7);
  group_counters<3> narrow;
  narrow.add(0, 5);
  copy = narrow;  // back to the small form
  CHECK_FALSE(copy.wide());
  CHECK(copy[0] == 5);
  CHECK(copy[1] == 0);

  group_counters<2> restored;
  restored.set(0, 3);
  restored.set(1, UINT64_MAX);  // widens, keeping what was set before
  REQUIRE(restored.wide());
  CHECK(restored[0] == 3);
  CHECK(restored[1] == UINT64_MAX);
}
