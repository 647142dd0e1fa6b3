#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "hash/string_map.hpp"
#include "messages/event.hpp"
#include "parse/clf_parser.hpp"
#include "parse/parse_error.hpp"

namespace vigil {

/// The event fields a JSON log line can carry.
enum class json_role : uint8_t {
  client, user, time, request, method, target, protocol, status, bytes, referer, user_agent,
  request_time, vhost,
};

/// Which JSON keys fill which event field. Each role accepts several names;
/// the defaults cover nginx `escape=json` logs and common shipper schemas.
struct json_fields {
  std::vector<std::pair<std::string, json_role>> names;

  /// ip/remote_addr, time/@timestamp/time_iso8601, request or method+path,
  /// status, bytes/body_bytes_sent, referer, user_agent, request_time, host.
  static json_fields defaults();

  /// Replaces the names of `role` with the single `name`. Returns false for
  /// an unknown role name.
  bool set(std::string_view role, std::string name);
};

/// Role names as used by `--json-field ROLE=KEY` and the config.
std::string_view to_string(json_role r) noexcept;

/// Parses JSON lines into events with simdjson's on-demand API. Strings
/// without escapes point into the line in place; escaped ones are unescaped
/// and appended to the batch. One instance per thread.
class json_line_parser {
public:
  json_line_parser(const json_fields& fields, time_unit request_time_unit);

  parse_error parse(std::string_view line, uint32_t base, event_batch& batch, log_event& ev);

private:
  string_map<json_role> roles_;
  time_unit request_time_unit_;
  simdjson::ondemand::parser parser_;
  std::vector<char> padded_;  // the line, copied with simdjson's padding
};

} // namespace vigil
