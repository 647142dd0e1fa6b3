#pragma once

#include <string>
#include <string_view>

#include "clean/path_decoder.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

struct path_verdict {
  signature_mask classes = 0;                     ///< path signature classes (`path_mask` bits)
  path_decoding decoding = path_decoding::plain;  ///< how decoding the path went
};

/// The signature classes of a request path: those of the path as logged,
/// plus, when it holds escapes, those of its decoded form, so `/%2e%65nv`
/// is the `/.env` probe it is. `vigil run` and `vigil analyze` both classify
/// through here, so their security counts agree. `scratch` is the caller's
/// reusable decoding buffer.
path_verdict classify_path(const signature_matcher::scanner& scanner, std::string_view path,
                           std::string& scratch, const path_decode_limits& limits = {});

/// The signature classes (`path_mask` bits) of a query string (after '?'):
/// those of it as logged, of it percent-decoded with '+' as a space (in
/// bounded rounds, as a path), and of that with its HTML character
/// references decoded, so `q=%3Cscript%3E` and `q=&lt;script&gt;` are the
/// XSS they are.
signature_mask classify_query(const signature_matcher::scanner& scanner, std::string_view query,
                              std::string& scratch, const path_decode_limits& limits = {});

} // namespace vigil
