// Every built-in signature, by id, against the request it must match and the
// near miss it must not (tests/attacks/signature_examples.txt).

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "enrich/path_classifier.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

struct example {
  signature_field field;
  bool positive;
  std::string text;
  int line;
};

std::multimap<std::string, example> read_examples() {
  std::multimap<std::string, example> out;
  std::istringstream in(test::read_file(std::string(VIGIL_SOURCE_DIR) + "/tests/attacks/signature_examples.txt"));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string id, field, sign;
    words >> id >> field >> sign;
    std::string text;
    std::getline(words >> std::ws, text);
    INFO("signature_examples.txt:" << n << ": " << line);
    REQUIRE((sign == "+" || sign == "-"));
    example e{signature_field::path, sign == "+", text, n};
    if (field == "path") e.field = signature_field::path;
    else if (field == "query") e.field = signature_field::query;
    else if (field == "referer") e.field = signature_field::referer;
    else if (field == "ua") e.field = signature_field::ua;
    else FAIL("unknown field " << field);
    out.emplace(id, e);
  }
  return out;
}

/// The ids of the signatures that match `text` as `field`, classified as
/// vigil classifies that field.
std::vector<std::string> matching(const signature_matcher::scanner& s, signature_field field, const std::string& text) {
  std::vector<uint32_t> matched;
  std::string scratch;
  switch (field) {
    case signature_field::path: classify_path(s, text, scratch, {}, &matched); break;
    case signature_field::query: classify_query(s, text, scratch, {}, &matched); break;
    default: classify_header(s, field, text, scratch, {}, &matched); break;
  }
  std::vector<std::string> ids;
  for (uint32_t i : matched) ids.push_back(s.matcher().signatures()[i].id);
  return ids;
}

} // namespace

TEST_CASE("each built-in signature matches its example and not its near miss") {
  const auto examples = read_examples();
  signature_matcher::scanner s{test::default_signatures()};
  for (const auto& sig : s.matcher().signatures()) {
    INFO("signature " << sig.id << " (" << sig.origin << ")");
    const auto [from, to] = examples.equal_range(sig.id);
    int positives = 0, negatives = 0;
    for (auto it = from; it != to; ++it) {
      const example& e = it->second;
      INFO("signature_examples.txt:" << e.line << ": " << (e.positive ? "+ " : "- ") << e.text);
      CHECK((sig.fields & field_bit(e.field)) != 0);
      const auto ids = matching(s, e.field, e.text);
      const bool matched = std::find(ids.begin(), ids.end(), sig.id) != ids.end();
      CHECK(matched == e.positive);
      (e.positive ? positives : negatives) += 1;
    }
    CHECK(positives >= 1);
    CHECK(negatives >= 1);
  }
  // No example names a signature that is not there.
  for (const auto& [id, e] : examples) {
    INFO("signature_examples.txt:" << e.line << ": " << id);
    CHECK(signature_set::defaults().find(id) != nullptr);
  }
}

TEST_CASE("the request-line rules report bad_request for what a server rejects") {
  CHECK(request_line_rule("GET", "/", 400, false) == "bad_request-status_400");
  CHECK(request_line_rule("", "\\x16\\x03\\x01", 400, true) == "bad_request-not_http");
  CHECK(request_line_rule("CONNECT", "123.123.123.123", 400, false) == "bad_request-status_400");
  CHECK(request_line_rule("CONNECT", "example.com:443", 200, false) == "bad_request-connect");
  CHECK(request_line_rule("GET", "http://example.com/", 200, false) == "bad_request-absolute_target");
  CHECK(request_line_rule("G\\x00ET", "/", 200, false) == "bad_request-method");
  // Ordinary requests, and a request logged as "-", break none.
  CHECK(request_line_rule("GET", "/index.html", 200, false).empty());
  CHECK(request_line_rule("OPTIONS", "*", 200, false).empty());
  CHECK(request_line_rule("", "", 408, false).empty());
}
