// Build-time tool: compiles config/signatures.txt with Hyperscan for any
// x86-64 CPU and writes a C++ source that embeds the serialized databases,
// so `vigil` starts without compiling its built-in signatures.
//
//   vigil_signature_databases SIGNATURES_FILE OUTPUT_CPP

#include <cstdio>
#include <fstream>
#include <iostream>

#include "signature/signature_matcher.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " SIGNATURES_FILE OUTPUT_CPP\n";
    return 2;
  }
  vigil::signature_set set;
  std::string error;
  std::array<std::string, vigil::signature_field_count> blobs;
  if (!set.add_file(argv[1], error) || !vigil::signature_matcher::serialize_portable(set, blobs, error)) {
    std::cerr << error << "\n";
    return 1;
  }
  std::ofstream out(argv[2], std::ios::trunc);
  out << "// Generated at build time from " << argv[1] << ": do not edit.\n"
      << "#include \"signature/signature_matcher.hpp\"\n\nnamespace vigil {\nnamespace {\n";
  for (size_t f = 0; f < blobs.size(); ++f) {
    out << "alignas(8) const unsigned char db" << f << "[] = {";
    for (size_t i = 0; i < blobs[f].size(); ++i) {
      if (i % 24 == 0) out << "\n";
      out << static_cast<unsigned>(static_cast<unsigned char>(blobs[f][i])) << ",";
    }
    out << "0};\n";
  }
  out << "} // namespace\n\nstd::array<std::string_view, signature_field_count> "
         "builtin_signature_databases() noexcept {\n  return {";
  for (size_t f = 0; f < blobs.size(); ++f)
    out << (f ? ", " : "") << "std::string_view(reinterpret_cast<const char*>(db" << f << "), "
        << blobs[f].size() << ")";
  out << "};\n}\n\n} // namespace vigil\n";
  return out ? 0 : 1;
}
