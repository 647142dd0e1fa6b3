#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "settings/config.hpp"

namespace vigil {

/// The fields every record of a node has, in order: the fields of every
/// `[[schema]]`, then the `[[transform]]` outputs, then the `[[lookup]]`
/// columns. One layout for the node, so records of different sources meet
/// in one window and one sink (a source's record leaves the fields it has
/// not got null).
class record_layout {
public:
  enum class origin : uint8_t { schema, transform, lookup };
  struct field {
    std::string name;
    origin from = origin::schema;
    field_type type = field_type::string;  ///< schema fields: the declared type
  };

  /// The layout of `cfg`. `error` is set (and the layout stops) on a field
  /// two schemas give different types, or a transform or lookup column
  /// that reuses a name.
  static record_layout of(const vigil_config& cfg, std::string* error = nullptr);

  const std::vector<field>& fields() const noexcept { return fields_; }
  size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  std::optional<size_t> index_of(std::string_view name) const;
  /// "fields: a, b, c" for messages.
  std::string listing() const;

private:
  std::vector<field> fields_;
};

} // namespace vigil
