#include "enrich/path_classifier.hpp"

namespace vigil {

path_verdict classify_path(const signature_matcher::scanner& scanner, std::string_view path,
                           std::string& scratch, const path_decode_limits& limits) {
  path_verdict v;
  v.classes = scanner.scan(signature_field::path, path) & path_mask;
  v.decoding = decode_path(path, scratch, limits);
  // A path cut off by a limit is still scanned as far as it was decoded:
  // whatever it reveals is what a server decoding as far would act on.
  const bool decoded = v.decoding != path_decoding::plain && v.decoding != path_decoding::too_long;
  if (decoded) v.classes |= scanner.scan(signature_field::path, scratch) & path_mask;
  // `//.env` and `\..\` are `/.env` and `/../` to the server.
  thread_local std::string collapsed;
  if (collapse_slashes(decoded ? std::string_view(scratch) : path, collapsed))
    v.classes |= scanner.scan(signature_field::path, collapsed) & path_mask;
  return v;
}

signature_mask classify_query(const signature_matcher::scanner& scanner, std::string_view query,
                              std::string& scratch, const path_decode_limits& limits) {
  signature_mask classes = scanner.scan(signature_field::query, query);
  const path_decoding d = decode_query(query, scratch, limits);
  const bool decoded = d != path_decoding::plain && d != path_decoding::too_long;
  if (decoded) classes |= scanner.scan(signature_field::query, scratch);
  thread_local std::string unescaped;
  if (decode_html_entities(decoded ? std::string_view(scratch) : query, unescaped))
    classes |= scanner.scan(signature_field::query, unescaped);
  return classes & path_mask;
}

} // namespace vigil
