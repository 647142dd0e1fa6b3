#include <catch2/catch.hpp>

#include "clean/duplicate_filter.hpp"

using namespace vigil;

TEST_CASE("a line seen again within the horizon is a duplicate, later it is not") {
  duplicate_filter f{10000};
  REQUIRE(f.enabled());
  CHECK_FALSE(f.seen("a", 1000));
  CHECK_FALSE(f.seen("b", 1000));
  CHECK(f.seen("a", 5000));
  CHECK(f.seen("a", 11000));     // 10 s after the first: still inside
  CHECK_FALSE(f.seen("c", 20000));  // moves the horizon past a and b
  CHECK_FALSE(f.seen("a", 20001));
  CHECK(f.remembered() == 2);
  CHECK_FALSE(duplicate_filter{0}.enabled());
}
