#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace vigil {

/// Errors that cross actor boundaries. 0 is reserved for "no error".
enum class errc : uint8_t {
  bad_frame = 1,        ///< a msgpack frame that does not decode
  unsupported_version,  ///< a frame of a format version this build cannot read
  limit_exceeded,       ///< a frame over a configured size or count limit
  input_failed,         ///< an input could not be opened or read
  cancelled,            ///< the job was stopped before it finished
  busy,                 ///< no credit left: the client should retry later (HTTP 429)
  unavailable,          ///< stopping, or the pipeline did not take it in time (HTTP 503)
};

std::string to_string(errc e);

/// Renders vigil errors as "vigil::<code> (<context>)"; pass to
/// `actor_system_config::add_error_category`.
std::string render_error(uint8_t code, caf::atom_value, const caf::message& context);

} // namespace vigil

CAF_ERROR_CODE_ENUM(vigil::errc, "vigil")
