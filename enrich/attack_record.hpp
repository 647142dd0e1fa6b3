#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "signature/signature_matcher.hpp"

namespace vigil {

/// The parts of a logged request the attack classifier reads.
struct request_view {
  std::string_view method;
  std::string_view target;  ///< path and query, as logged
  uint32_t path_length = 0; ///< of `target`, up to its '?'
  std::string_view referer;
  std::string_view user_agent;
  uint16_t status = 0;
  bool malformed = false;   ///< the request line was not "METHOD target" (`target` holds it)

  std::string_view path() const noexcept { return target.substr(0, path_length); }
  /// After the '?'; empty when there is none.
  std::string_view query() const noexcept {
    return target.size() > path_length + 1 ? target.substr(path_length + 1) : std::string_view{};
  }
};

/// The "attacks" member of an attack request's JSON line, the same for
/// `vigil analyze --attacks` and an attacks sink of `vigil run`, as JSON
/// text: per attack class the request matched, the fields it matched on and
/// the ids of the signatures that matched,
/// `[{"class":"sqli","fields":["query"],"signatures":["sqli-union"]},...]`.
/// Scans the request again, collecting signature ids, so call it only for
/// the requests that are attacks.
std::string explain_attacks(const signature_matcher::scanner& scanner, const request_view& request,
                            std::string& scratch);

/// `object` (a JSON object's text) with `"attacks":attacks` added last.
std::string with_attacks(std::string object, const std::string& attacks);

} // namespace vigil
