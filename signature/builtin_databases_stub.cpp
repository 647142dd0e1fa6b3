// The tool that generates the built-in databases links without them.
#include "signature/signature_matcher.hpp"

namespace vigil {

std::array<std::string_view, signature_field_count> builtin_signature_databases() noexcept {
  return {};
}

} // namespace vigil
