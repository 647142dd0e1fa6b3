#include <catch2/catch.hpp>

#include <filesystem>

#include <sys/stat.h>

#include "support/test_support.hpp"
#include "transport/curve_keys.hpp"

using namespace vigil;

TEST_CASE("vigil keygen writes a Curve key pair: secret 0600, public derivable from it, never overwritten") {
  REQUIRE(curve_available());
  test::temp_dir dir;
  auto r = test::run_command(std::string(VIGIL_BINARY) + " keygen --node agent-1 --dir '" + dir.path.string() + "'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::string secret = test::read_file(dir / "agent-1.key"), pub = test::read_file(dir / "agent-1.pub");
  REQUIRE(secret.size() == 41);
  REQUIRE(pub.size() == 41);
  secret.pop_back();
  pub.pop_back();
  CHECK(curve_public_of(secret) == pub);
  CHECK(r.out.find("public key: " + pub) != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((dir / "agent-1.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // A second run for the same node must not replace its identity.
  auto again = test::run_command(std::string(VIGIL_BINARY) + " keygen --node agent-1 --dir '" + dir.path.string() + "' 2>&1");
  CHECK(again.exit_code == 1);
  CHECK(again.out.find("agent-1.key: File exists") != std::string::npos);
  CHECK(test::read_file(dir / "agent-1.key") == secret + "\n");
  // Two pairs differ; garbage is not a key.
  CHECK(make_curve_keys().secret_key != make_curve_keys().secret_key);
  CHECK_THROWS_AS(curve_public_of("not a key"), std::invalid_argument);
}
