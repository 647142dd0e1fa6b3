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
};
constexpr size_t signature_class_count = 9;

/// A set of `signature_class` bits.
using signature_mask = uint16_t;
constexpr signature_mask mask_of(signature_class c) noexcept {
  return static_cast<signature_mask>(1u << static_cast<unsigned>(c));
}
/// The classes that count as attacks in the security report.
constexpr signature_mask attack_mask = mask_of(signature_class::probe)
                                       | mask_of(signature_class::traversal)
                                       | mask_of(signature_class::sqli)
                                       | mask_of(signature_class::xss)
                                       | mask_of(signature_class::scanner);

/// The classes matched on the user agent; the rest are matched on the
/// path or query.
constexpr signature_mask agent_mask = mask_of(signature_class::scanner)
                                      | mask_of(signature_class::bot)
                                      | mask_of(signature_class::tool);
constexpr signature_mask path_mask = static_cast<signature_mask>(~agent_mask);

/// The part of a request a signature is matched against.
enum class signature_field : uint8_t { path, query, ua };
constexpr size_t signature_field_count = 3;

std::string_view to_string(signature_class c) noexcept;
std::string_view to_string(signature_field f) noexcept;

struct signature {
  signature_class cls;
  signature_field field;
  std::string pattern;  ///< Hyperscan expression, matched case-insensitively
  std::string origin;   ///< "file:line", for error messages
};

/// An ordered list of signatures, read from "CLASS FIELD PATTERN" lines.
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

private:
  std::vector<signature> signatures_;
};

/// The text of config/signatures.txt, embedded at build time.
std::string_view default_signature_text() noexcept;

} // namespace vigil
