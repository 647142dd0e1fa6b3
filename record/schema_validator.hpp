#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "hash/string_map.hpp"
#include "messages/event.hpp"
#include "record/record_layout.hpp"
#include "settings/config.hpp"

namespace vigil {

/// Why an event was quarantined. Stable names: quarantine records and
/// metrics carry them.
enum class record_error : uint8_t {
  none, bad_json, missing_field, bad_type, out_of_range, not_in_enum, too_long, unknown_field,
  missing_key,  ///< a lookup with on_missing = "quarantine" found no row
  bad_value,    ///< a transform's result does not fit its use
  future_timestamp,  ///< the event time is later than the arrival clock allows (max_future)
};
constexpr size_t record_error_count = 11;
std::string_view to_string(record_error e) noexcept;

/// What was wrong with a quarantined event, beyond the reason.
struct record_problem {
  record_error reason = record_error::none;
  std::string field;
  std::string value;  ///< the offending value as written (cut to 256 bytes)
};

/// Counts a schema keeps per field: data quality as the stream goes.
struct field_quality {
  uint64_t nulls = 0;      ///< absent or null, not required, no default
  uint64_t invalid = 0;    ///< the event was quarantined for this field
  uint64_t coerced = 0;    ///< the value was converted (coerce = true)
  uint64_t defaulted = 0;  ///< absent: the default was used
};

/// Validates and cleans JSON events against a `[[schema]]` into records of
/// a node's layout. Strings without escapes point into the line in place;
/// escaped and cleaned (trimmed, re-cased) ones are appended to the batch.
/// One instance per thread.
class schema_validator {
public:
  schema_validator(const schema_config& schema, const record_layout& layout);

  /// Fills `row` (layout width, all null on entry) and `info.time_ms`
  /// (INT64_MIN when the event has no time) from `line`, which is at
  /// `base` in `batch.text`. Returns false with `why` set when the event
  /// must be quarantined.
  bool validate(std::string_view line, uint32_t base, event_batch& batch, field_value* row, record_info& info,
                record_problem& why);

  bool has_time_field() const noexcept { return time_slot_ >= 0; }
  /// The event time of a line `validate` refused, when its time field is
  /// there and good (a quarantined event still counts in its window's
  /// `invalid()`).
  std::optional<int64_t> time_of(std::string_view line);
  const std::vector<field_quality>& quality() const noexcept { return quality_; }
  const schema_config& schema() const noexcept { return schema_; }

private:
  struct compiled_field {
    schema_field cfg;
    size_t slot = 0;  // in the layout
    string_set values;
  };
  bool take(const compiled_field& f, size_t index, simdjson::ondemand::value& v, uint32_t base, event_batch& batch,
            field_value& out, record_problem& why);
  bool take_text(const compiled_field& f, size_t index, std::string_view text, bool in_line, uint32_t at,
                 event_batch& batch, field_value& out, record_problem& why, bool coerced);
  bool take_default(const compiled_field& f, size_t index, event_batch& batch, field_value& out, record_problem& why);

  schema_config schema_;
  std::vector<compiled_field> fields_;
  string_map<size_t> by_name_;
  int time_slot_ = -1;
  std::vector<field_quality> quality_;
  std::vector<char> seen_;  // per field, reused per event
  std::string scratch_;
  std::string extras_;           // the unknown fields kept, reused per event
  record_info* info_ = nullptr;  // the event being validated
  simdjson::ondemand::parser parser_;
  std::vector<char> padded_;
};

} // namespace vigil
