#include "record/record_layout.hpp"

namespace vigil {

record_layout record_layout::of(const vigil_config& cfg, std::string* error) {
  record_layout l;
  auto add = [&](const std::string& name, origin from, field_type type) -> bool {
    if (auto at = l.index_of(name)) {
      const field& f = l.fields_[*at];
      if (from == origin::schema && f.from == origin::schema) {
        if (f.type == type) return true;  // shared by two schemas
        if (error) *error = "field \"" + name + "\" has another type in another schema";
        return false;
      }
      if (error) *error = "field \"" + name + "\" is already a record field";
      return false;
    }
    l.fields_.push_back({name, from, type});
    return true;
  };
  for (const auto& s : cfg.schemas)
    for (const auto& f : s.fields)
      if (!add(f.name, origin::schema, f.type)) return l;
  for (const auto& t : cfg.transforms)
    if (!add(t.name, origin::transform, field_type::string)) return l;
  for (const auto& k : cfg.lookups)
    for (const auto& f : k.fields)
      if (!add(f, origin::lookup, field_type::string)) return l;
  return l;
}

std::optional<size_t> record_layout::index_of(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return i;
  return std::nullopt;
}

std::string record_layout::listing() const {
  std::string s = "fields:";
  for (size_t i = 0; i < fields_.size(); ++i) s += (i ? ", " : " ") + fields_[i].name;
  return fields_.empty() ? "no record fields" : s;
}

} // namespace vigil
