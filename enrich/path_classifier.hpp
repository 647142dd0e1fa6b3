#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clean/path_decoder.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

// `vigil run` and `vigil analyze` both classify requests through here, so
// their security counts agree. Each function scans a field as logged and in
// the forms a server or browser would decode it to, and takes the caller's
// reusable `scratch` buffer; with `matched`, it appends the index of each
// signature that matched (possibly twice: once per form).

struct path_verdict {
  signature_mask classes = 0;                     ///< path signature classes (no `agent_mask` bits)
  path_decoding decoding = path_decoding::plain;  ///< how decoding the path went
};

/// The signature classes of a request path: as logged; percent-decoded when
/// it holds escapes (so `/%2e%65nv` is the `/.env` probe it is); with
/// backslashes and `//` collapsed; and with `.`/`..` segments resolved.
path_verdict classify_path(const signature_matcher::scanner& scanner, std::string_view path,
                           std::string& scratch, const path_decode_limits& limits = {},
                           std::vector<uint32_t>* matched = nullptr);

/// The signature classes of a query string (after '?'): as logged,
/// percent-decoded with '+' as a space (in bounded rounds, as a path), and
/// that with its HTML character references decoded, so `q=%3Cscript%3E`
/// and `q=&lt;script&gt;` are the XSS they are.
signature_mask classify_query(const signature_matcher::scanner& scanner, std::string_view query,
                              std::string& scratch, const path_decode_limits& limits = {},
                              std::vector<uint32_t>* matched = nullptr);

/// The signature classes of a Referer or User-Agent (`field`), decoded as a
/// query is: payloads arrive there too (shellshock, SQLi in the Referer).
/// Only a user agent reports who the client is (`agent_mask` classes).
signature_mask classify_header(const signature_matcher::scanner& scanner, signature_field field,
                               std::string_view text, std::string& scratch,
                               const path_decode_limits& limits = {},
                               std::vector<uint32_t>* matched = nullptr);

/// What a request line shows without any signature, as the id of the rule
/// it breaks (empty for none), each a `bad_request`: `bad_request-status_400`
/// (what fail2ban's nginx-bad-request bans), `bad_request-not_http` (no
/// "METHOD target": binary or a TLS handshake sent to the HTTP port, a bare
/// word), `bad_request-method` (a method that is not an HTTP token),
/// `bad_request-connect`, `bad_request-absolute_target` (a target that is
/// neither a path nor `*`: a proxy probe).
std::string_view request_line_rule(std::string_view method, std::string_view target, uint16_t status,
                                   bool malformed) noexcept;

inline signature_mask classify_request_line(std::string_view method, std::string_view target, uint16_t status,
                                            bool malformed) noexcept {
  return request_line_rule(method, target, status, malformed).empty() ? 0 : mask_of(signature_class::bad_request);
}

} // namespace vigil
