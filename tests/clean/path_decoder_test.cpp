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

TEST_CASE("a query string decodes '+' as a space, once: a '+' from %2B stays one") {
  std::string out = "stale";
  CHECK(decode_query("q=1+UNION+SELECT", out) == path_decoding::decoded);
  CHECK(out == "q=1 UNION SELECT");
  CHECK(decode_query("a=1%2B1+2", out) == path_decoding::decoded);
  CHECK(out == "a=1+1 2");
  CHECK(decode_query("a=%252B", out) == path_decoding::decoded);  // two rounds: %2B, then '+'
  CHECK(out == "a=+");
  out = "stale";
  CHECK(decode_query("a=1&b=2", out) == path_decoding::plain);
  CHECK(out == "stale");
}

TEST_CASE("backslashes and runs of slashes collapse to one slash, what servers resolve") {
  std::string out = "stale";
  CHECK_FALSE(collapse_slashes("/a/b/c", out));
  CHECK(out == "stale");
  CHECK(collapse_slashes("//.env", out));
  CHECK(out == "/.env");
  CHECK(collapse_slashes("/static\\..\\..\\windows\\win.ini", out));
  CHECK(out == "/static/../../windows/win.ini");
  CHECK(collapse_slashes("/a///b//", out));
  CHECK(out == "/a/b/");
}

TEST_CASE("HTML character references that spell ASCII decode, named and numeric, with or without the closing semicolon") {
  std::string out;
  CHECK_FALSE(decode_html_entities("a=1&b=2", out));
  CHECK(decode_html_entities("q=&lt;script&gt;alert(1)&LT;/script&gt;", out));
  CHECK(out == "q=<script>alert(1)</script>");
  CHECK(decode_html_entities("u=javascript&colon;alert&lpar;1&rpar;", out));
  CHECK(out == "u=javascript:alert(1)");
  CHECK(decode_html_entities("x=&#60;svg&#x3E;&#0000060&#x3c", out));
  CHECK(out == "x=<svg><<");
  // Not ASCII, not a reference, or empty: kept as written.
  CHECK_FALSE(decode_html_entities("x=&#233;&#;&#x;&#0;&nbsp;", out));
}

TEST_CASE("signatures see through query encoding: '+' spaces, escapes and HTML references") {
  signature_matcher::scanner s{test::default_signatures()};
  std::string scratch;
  auto is = [&](std::string_view query, signature_class c) {
    return (classify_query(s, query, scratch) & mask_of(c)) != 0;
  };
  CHECK(is("id=1%2527%2520UNION%2520SELECT%2520password", signature_class::sqli));  // doubly encoded
  CHECK(is("q=%3Cscript%3Ealert(1)%3C/script%3E", signature_class::xss));
  CHECK(is("q=&lt;script&gt;alert(1)", signature_class::xss));
  CHECK(is("q=%26lt%3Bscript%26gt%3B", signature_class::xss));  // references behind escapes
  CHECK_FALSE(is("q=caf%C3%A9+menu&page=2", signature_class::xss));
  CHECK((classify_query(s, "q=caf%C3%A9+menu&page=2&sort=price+asc", scratch) & attack_mask) == 0);
}

TEST_CASE("dot segments resolve as a server resolves them, and log escapes decode to the bytes sent") {
  std::string out;
  CHECK_FALSE(resolve_dot_segments("/a/b.c/d", out));
  REQUIRE(resolve_dot_segments("/static/../.env", out));
  CHECK(out == "/.env");
  REQUIRE(resolve_dot_segments("/a/./b/../../../etc/passwd", out));
  CHECK(out == "/etc/passwd");  // above the root stays at the root
  REQUIRE(resolve_dot_segments("/a/b/..", out));
  CHECK(out == "/a");
  REQUIRE(resolve_dot_segments("/a/../", out));
  CHECK(out == "/");

  CHECK_FALSE(decode_log_escapes("/plain?x=1", out));
  REQUIRE(decode_log_escapes("q=\\x22sys\\x22 and \\x5Cn", out));
  CHECK(out == "q=\"sys\" and \\n");
  REQUIRE(decode_log_escapes("\\x16\\x03\\x01", out));
  CHECK(out == std::string("\x16\x03\x01"));
  CHECK_FALSE(decode_log_escapes("\\xZZ and \\x4", out));  // not an escape
}
