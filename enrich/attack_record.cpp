#include "enrich/attack_record.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <nlohmann/json.hpp>

#include "enrich/path_classifier.hpp"

namespace vigil {

std::string explain_attacks(const signature_matcher::scanner& scanner, const request_view& r, std::string& scratch) {
  // The fields in the order they are reported.
  static constexpr std::array<std::string_view, 5> field_names = {"path", "query", "referer", "user_agent",
                                                                  "request_line"};
  std::array<std::vector<uint32_t>, 4> matched;
  std::array<signature_mask, 5> classes = {};
  classes[0] = classify_path(scanner, r.path(), scratch, {}, &matched[0]).classes;
  if (!r.query().empty()) classes[1] = classify_query(scanner, r.query(), scratch, {}, &matched[1]);
  classes[2] = classify_header(scanner, signature_field::referer, r.referer, scratch, {}, &matched[2]);
  classes[3] = classify_header(scanner, signature_field::ua, r.user_agent, scratch, {}, &matched[3]);
  const std::string_view line_rule = request_line_rule(r.method, r.target, r.status, r.malformed);
  if (!line_rule.empty()) classes[4] = mask_of(signature_class::bad_request);

  const auto& signatures = scanner.matcher().signatures();
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t c = 0; c < signature_class_count; ++c) {
    const signature_mask bit = mask_of(static_cast<signature_class>(c));
    if (!(attack_mask & bit)) continue;
    nlohmann::ordered_json fields = nlohmann::ordered_json::array();
    std::vector<std::string_view> ids;
    for (size_t f = 0; f < classes.size(); ++f) {
      if (!(classes[f] & bit)) continue;
      fields.push_back(field_names[f]);
      if (f == 4) ids.push_back(line_rule);
      else
        for (uint32_t i : matched[f])
          if (signatures[i].cls == static_cast<signature_class>(c)) ids.push_back(signatures[i].id);
    }
    if (fields.empty()) continue;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    out.push_back({{"class", to_string(static_cast<signature_class>(c))},
                   {"fields", std::move(fields)},
                   {"signatures", ids}});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string with_attacks(std::string object, const std::string& attacks) {
  // `object` ends in '}': reopen it for one more member.
  object.pop_back();
  if (object.size() > 1) object += ',';
  object += "\"attacks\":";
  object += attacks;
  object += '}';
  return object;
}

} // namespace vigil
