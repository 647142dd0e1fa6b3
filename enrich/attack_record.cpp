#include "enrich/attack_record.hpp"

namespace vigil {

attack_fields fields_of(signature_mask path, signature_mask query, signature_mask user_agent) noexcept {
  attack_fields f = {};
  for (size_t c = 0; c < signature_class_count; ++c) {
    const signature_mask bit = mask_of(static_cast<signature_class>(c));
    if (!(attack_mask & bit)) continue;
    f[c] = static_cast<uint8_t>(((path & bit) ? attack_field::path : 0) | ((query & bit) ? attack_field::query : 0)
                                | ((user_agent & bit) ? attack_field::user_agent : 0));
  }
  return f;
}

void append_attacks_json(std::string& out, signature_mask classes, const attack_fields& fields) {
  out += '[';
  bool first = true;
  for (size_t c = 0; c < signature_class_count; ++c) {
    if (!(classes & attack_mask & mask_of(static_cast<signature_class>(c)))) continue;
    out += first ? "" : ",";
    first = false;
    // Class and field names are fixed identifiers: nothing to escape.
    out += "{\"class\":\"";
    out += to_string(static_cast<signature_class>(c));
    out += "\",\"fields\":[";
    bool first_field = true;
    for (const auto& [bit, name] : {std::pair<uint8_t, const char*>{attack_field::path, "path"},
                                    {attack_field::query, "query"}, {attack_field::user_agent, "user_agent"}})
      if (fields[c] & bit) {
        out += first_field ? "\"" : ",\"";
        out += name;
        out += '"';
        first_field = false;
      }
    out += "]}";
  }
  out += ']';
}

} // namespace vigil
