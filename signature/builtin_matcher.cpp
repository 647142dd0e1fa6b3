// Part of vigil_core, beside the generated databases it loads.
#include "signature/signature_matcher.hpp"

namespace vigil {

std::shared_ptr<const signature_matcher> signature_matcher::builtin(std::string& error) {
  const signature_set set = signature_set::defaults();
  std::string ignored;  // a load failure is not an error: compiling still works
  if (auto m = deserialize(builtin_signature_databases(), set, ignored)) return m;
  return compile(set, error);
}

} // namespace vigil
