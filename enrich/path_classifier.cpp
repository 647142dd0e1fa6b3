#include "enrich/path_classifier.hpp"

namespace vigil {

path_verdict classify_path(const signature_matcher::scanner& scanner, std::string_view path,
                           std::string& scratch, const path_decode_limits& limits) {
  path_verdict v;
  v.classes = scanner.scan(signature_field::path, path) & path_mask;
  v.decoding = decode_path(path, scratch, limits);
  // A path cut off by a limit is still scanned as far as it was decoded:
  // whatever it reveals is what a server decoding as far would act on.
  if (v.decoding != path_decoding::plain && v.decoding != path_decoding::too_long)
    v.classes |= scanner.scan(signature_field::path, scratch) & path_mask;
  return v;
}

} // namespace vigil
