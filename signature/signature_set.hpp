#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// What a signature says about a request.
enum class signature_class : uint8_t {
  probe,        ///< sensitive-path probe
  traversal,    ///< path traversal
  sqli,         ///< SQL injection
  xss,          ///< cross-site scripting
  scanner,      ///< scanner or attack-tool user agent
  bot,          ///< crawler or monitor user agent
  tool,         ///< HTTP library or command-line client
  auth,         ///< login endpoint
  static_file,  ///< static file, not a page view
  rfi,          ///< remote file inclusion, SSRF, open redirect
  cmdi,         ///< OS command injection
  code,         ///< code injection: PHP, Java, Node, expression and template languages
  crlf,         ///< CRLF, header injection, request smuggling and splitting
  ldap,         ///< LDAP filter injection
  shellshock,   ///< Bash function definition in a header (CVE-2014-6271)
  badbot,       ///< abusive crawler, spam or e-mail harvester user agent
  bad_request,  ///< malformed or hostile request line, or a 400
};
constexpr size_t signature_class_count = 17;

/// A set of `signature_class` bits.
using signature_mask = uint32_t;
constexpr signature_mask mask_of(signature_class c) noexcept {
  return static_cast<signature_mask>(1u << static_cast<unsigned>(c));
}

/// The classes that say who the client is (from its user agent), not what a
/// request carries.
constexpr signature_mask agent_mask = mask_of(signature_class::scanner) | mask_of(signature_class::bot)
                                      | mask_of(signature_class::tool) | mask_of(signature_class::badbot);

/// The classes that count as attacks in the security report and on the
/// attacks output.
constexpr signature_mask attack_mask =
  mask_of(signature_class::probe) | mask_of(signature_class::traversal) | mask_of(signature_class::sqli)
  | mask_of(signature_class::xss) | mask_of(signature_class::scanner) | mask_of(signature_class::rfi)
  | mask_of(signature_class::cmdi) | mask_of(signature_class::code) | mask_of(signature_class::crlf)
  | mask_of(signature_class::ldap) | mask_of(signature_class::shellshock) | mask_of(signature_class::badbot)
  | mask_of(signature_class::bad_request);

/// The attack classes a request carries (its payload), whichever field
/// carries it: all attacks but the client's own identity.
constexpr signature_mask payload_mask = attack_mask & ~agent_mask;

/// The part of a request a signature is matched against.
enum class signature_field : uint8_t { path, query, referer, ua };
constexpr size_t signature_field_count = 4;

std::string_view to_string(signature_class c) noexcept;
std::string_view to_string(signature_field f) noexcept;
/// The class named `name` ("sqli", "static"); false when there is none.
bool signature_class_of(std::string_view name, signature_class& out) noexcept;

constexpr uint8_t field_bit(signature_field f) noexcept { return static_cast<uint8_t>(1u << static_cast<unsigned>(f)); }

struct signature {
  std::string id;  ///< "sqli-3": unique in a set; "CLASS@FILE:LINE" for a line without one
  signature_class cls;
  uint8_t fields = 0;   ///< bits: 1 << signature_field
  std::string pattern;  ///< Hyperscan expression, matched case-insensitively
  std::string origin;   ///< "file:line", for error messages
};

/// An ordered list of signatures, read from "ID FIELDS PATTERN" lines
/// (FIELDS: one of path, query, referer, ua, or several joined by ','), where
/// ID is CLASS-NAME (`sqli-union`, `probe-12`): the class it reports and a
/// name unique in the set. A bare CLASS (the format before ids) is accepted
/// and gets the id CLASS@SOURCE:LINE.
class signature_set {
public:
  /// The set compiled into vigil (config/signatures.txt).
  static signature_set defaults();

  /// Adds the signatures in `text`. On a bad line, returns false and sets
  /// `error` to "SOURCE:LINE: what is wrong".
  bool add_text(std::string_view text, std::string_view source, std::string& error);

  /// Adds the signatures in the file at `path`.
  bool add_file(const std::string& path, std::string& error);

  const std::vector<signature>& signatures() const noexcept { return signatures_; }

  /// The signature with `id`, or null.
  const signature* find(std::string_view id) const noexcept;

private:
  std::vector<signature> signatures_;
};

/// The text of config/signatures.txt, embedded at build time.
std::string_view default_signature_text() noexcept;

} // namespace vigil
