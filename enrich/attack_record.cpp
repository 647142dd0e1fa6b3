#include "enrich/attack_record.hpp"

#include <nlohmann/json.hpp>

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

nlohmann::ordered_json attacks_json(signature_mask classes, const attack_fields& fields) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t c = 0; c < signature_class_count; ++c) {
    if (!(classes & attack_mask & mask_of(static_cast<signature_class>(c)))) continue;
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    if (fields[c] & attack_field::path) names.push_back("path");
    if (fields[c] & attack_field::query) names.push_back("query");
    if (fields[c] & attack_field::user_agent) names.push_back("user_agent");
    out.push_back({{"class", to_string(static_cast<signature_class>(c))}, {"fields", std::move(names)}});
  }
  return out;
}

} // namespace vigil
