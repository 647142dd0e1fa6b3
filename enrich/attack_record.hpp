#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "signature/signature_set.hpp"

namespace vigil {

/// Which fields of a request an attack class matched on (bits).
namespace attack_field {
constexpr uint8_t path = 1, query = 2, user_agent = 4;
}

/// Per class (by bit index): the `attack_field` bits it matched on.
using attack_fields = std::array<uint8_t, signature_class_count>;

/// `attack_fields` of a request from what its path, query and user agent
/// matched (`path_mask`/`agent_mask` bits), for the classes in `attack_mask`.
attack_fields fields_of(signature_mask path, signature_mask query, signature_mask user_agent) noexcept;

/// The "attacks" member of an attack request's JSON line, the same for
/// `vigil analyze --attacks` and an attacks sink of `vigil run`:
/// `[{"class":"sqli","fields":["query"]},...]`.
nlohmann::ordered_json attacks_json(signature_mask classes, const attack_fields& fields);

} // namespace vigil
