#include <catch2/catch.hpp>

#include "clean/path_decoder.hpp"
#include "enrich/path_classifier.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

std::pair<path_decoding, std::string> decode(std::string_view path, path_decode_limits limits = {}) {
  std::string out = "stale";
  path_decoding d = decode_path(path, out, limits);
  return {d, out};
}

} // namespace

TEST_CASE("a path without escapes is left alone") {
  auto [d, out] = decode("/products/42?x=1");
  CHECK(d == path_decoding::plain);
  CHECK(out == "stale");
}

TEST_CASE("escapes decode in either hex case, '+' stays '+'") {
  CHECK(decode("/a%20b/%2E%2e/c+d") == std::pair{path_decoding::decoded, std::string("/a b/../c+d")});
  CHECK(decode("/%C3%A9t%C3%A9").second == "/\xC3\xA9t\xC3\xA9");
}

TEST_CASE("a doubly encoded path decodes in two rounds, a deeper one stops at the limit") {
  CHECK(decode("/%252e%252e/etc") == std::pair{path_decoding::decoded, std::string("/../etc")});
  // %25252e: three rounds to reach '.', allowed by the default of 3.
  CHECK(decode("/%25252eenv") == std::pair{path_decoding::decoded, std::string("/.env")});
  // Four rounds needed: the result after three still holds an escape.
  auto [d, out] = decode("/%2525252eenv");
  CHECK(d == path_decoding::too_deep);
  CHECK(out == "/%2eenv");
  CHECK(decode("/%252eenv", path_decode_limits{1, 8192}).first == path_decoding::too_deep);
}

TEST_CASE("a '%' without two hex digits is kept and reported") {
  CHECK(decode("/100%") == std::pair{path_decoding::bad_escape, std::string("/100%")});
  CHECK(decode("/a%2") == std::pair{path_decoding::bad_escape, std::string("/a%2")});
  CHECK(decode("/%zz/%41") == std::pair{path_decoding::bad_escape, std::string("/%zz/A")});
  // The bad escape appears only once the first round is done.
  CHECK(decode("/%2541%25zz") == std::pair{path_decoding::bad_escape, std::string("/A%zz")});
}

TEST_CASE("a decoded NUL cuts the path where C code would stop reading") {
  CHECK(decode("/.env%00.jpg") == std::pair{path_decoding::nul_byte, std::string("/.env")});
  CHECK(decode("/.env%2500.jpg") == std::pair{path_decoding::nul_byte, std::string("/.env")});
}

TEST_CASE("a path over the byte limit is not decoded at all") {
  std::string huge = "/";
  for (int i = 0; i < 5000; ++i) huge += "%41";
  auto [d, out] = decode(huge);
  CHECK(d == path_decoding::too_long);
  CHECK(out == "stale");
  CHECK(decode(huge, path_decode_limits{3, huge.size()}).second == "/" + std::string(5000, 'A'));
}

TEST_CASE("signatures see through path encoding: probes and traversal hidden behind escapes are found") {
  signature_matcher::scanner s{test::default_signatures()};
  std::string scratch;
  auto classes = [&](std::string_view path) { return classify_path(s, path, scratch).classes; };
  auto is = [](signature_mask m, signature_class c) { return (m & mask_of(c)) != 0; };
  CHECK(is(classes("/%2e%65nv"), signature_class::probe));
  CHECK(is(classes("/%252Egit/config"), signature_class::probe));
  CHECK(is(classes("/wp-%61dmin/"), signature_class::probe));
  CHECK(is(classes("/.env%00.png"), signature_class::probe));
  CHECK(is(classes("/static/%2e%2e/%2e%2e/etc/shadow"), signature_class::traversal));
  // What matched before decoding still counts.
  CHECK(is(classes("/%2e%2e%2fetc"), signature_class::traversal));
  // An ordinary escaped path is not an attack, and its outcome says so.
  auto plain = classify_path(s, "/search/caf%C3%A9%20menu", scratch);
  CHECK((plain.classes & attack_mask) == 0);
  CHECK(plain.decoding == path_decoding::decoded);
  CHECK_FALSE(breaks_limits(plain.decoding));
  CHECK(breaks_limits(classify_path(s, "/x%2525252e", scratch).decoding));
}
