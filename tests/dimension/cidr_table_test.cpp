#include <random>

#include <catch2/catch.hpp>

#include "dimension/cidr_table.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

uint32_t v4(const std::string& ip) {
  auto b = parse_ip(ip);
  REQUIRE(b);
  return uint32_t{(*b)[12]} << 24 | uint32_t{(*b)[13]} << 16 | uint32_t{(*b)[14]} << 8 | (*b)[15];
}

std::string v4_text(uint32_t x) {
  return std::to_string(x >> 24) + "." + std::to_string(x >> 16 & 255) + "." + std::to_string(x >> 8 & 255)
         + "." + std::to_string(x & 255);
}

} // namespace

TEST_CASE("the longest matching prefix wins, for IPv4 and IPv6") {
  std::string error;
  auto t = cidr_table::from_rows({"country", "org"},
                                 {{"10.0.0.0/8", "ZZ", "corp"},
                                  {"10.1.0.0/16", "DE", "corp-de"},
                                  {"10.1.2.3", "DE", "one host"},
                                  {"2001:db8::/32", "NL", "v6net"},
                                  {"2001:db8:1::/48", "FR", "v6sub"}},
                                 error);
  REQUIRE(t);
  auto org = [&](const char* ip) { auto r = t->find(ip); return r < 0 ? std::string("-") : t->label(r, 1); };
  CHECK(org("10.9.9.9") == "corp");
  CHECK(org("10.1.9.9") == "corp-de");
  CHECK(org("10.1.2.3") == "one host");
  CHECK(org("11.0.0.1") == "-");
  CHECK(org("2001:db8:2::1") == "v6net");
  CHECK(org("2001:db8:1::1") == "v6sub");
  CHECK(org("2001:db9::1") == "-");
  CHECK(org("not-an-ip") == "-");
  CHECK(org("") == "-");
  CHECK(t->label(t->find("10.1.2.3"), 0) == "DE");
}

TEST_CASE("lookups equal a linear scan over random prefixes") {
  std::mt19937 rng(7);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::pair<uint32_t, int>> nets;
  for (int i = 0; i < 2000; ++i) {
    int len = 8 + static_cast<int>(rng() % 25);
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    uint32_t net = rng() & mask & 0x0fffffffu;  // keep to 0.0.0.0/4 so prefixes nest often
    bool dup = false;
    for (auto& [n, l] : nets) dup |= n == net && l == len;
    if (dup) continue;
    nets.emplace_back(net, len);
    rows.push_back({v4_text(net) + "/" + std::to_string(len), std::to_string(rows.size())});
  }
  std::string error;
  auto t = cidr_table::from_rows({"id"}, rows, error);
  REQUIRE(t);
  for (int i = 0; i < 20000; ++i) {
    uint32_t ip = rng() & 0x0fffffffu;
    int best = -1, best_len = -1;
    for (size_t k = 0; k < nets.size(); ++k) {
      uint32_t mask = nets[k].second == 0 ? 0 : ~uint32_t{0} << (32 - nets[k].second);
      if ((ip & mask) == nets[k].first && nets[k].second > best_len) best = static_cast<int>(k), best_len = nets[k].second;
    }
    auto row = t->find(v4_text(ip));
    INFO(v4_text(ip));
    REQUIRE(row == best);
  }
  CHECK(v4("1.2.3.4") == 0x01020304u);
}

TEST_CASE("a bad dimension file is refused with its file and line") {
  test::temp_dir dir;
  std::string error;
  test::write_file(dir / "geo.csv", "cidr,country\n10.0.0.0/8,ZZ\n10.0.0.0/33,XX\n");
  CHECK_FALSE(cidr_table::load(dir / "geo.csv", {"country"}, error));
  CHECK(error == dir / "geo.csv" + ":3: \"10.0.0.0/33\": prefix length must be 0..32");
  test::write_file(dir / "geo.csv", "cidr,asn\n10.0.0.0/8,1\n");
  CHECK_FALSE(cidr_table::load(dir / "geo.csv", {"country"}, error));
  CHECK(error.find(":1: header must be \"cidr,country\"") != std::string::npos);
  test::write_file(dir / "geo.csv", "# comment\ncidr,country\n\"10.0.0.0/8\",\"Z, Z\"\n10.0.0.0/8,dup\n");
  CHECK_FALSE(cidr_table::load(dir / "geo.csv", {"country"}, error));
  CHECK(error.find(":4: \"10.0.0.0/8\" is listed twice") != std::string::npos);
  test::write_file(dir / "geo.csv", "cidr,country\n\"10.0.0.0/8\",\"Z, Z\"\n");
  auto t = cidr_table::load(dir / "geo.csv", {"country"}, error);
  REQUIRE(t);
  CHECK(t->label(t->find("10.2.3.4"), 0) == "Z, Z");
}
