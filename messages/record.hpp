#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/text_ref.hpp"

namespace vigil {

/// What a record field holds. `time` is UTC milliseconds since the epoch.
enum class value_kind : uint8_t { null, boolean, integer, number, text, time };

/// One field of one record. Strings are `text_ref`s into the batch's text,
/// as the web-log events' are, so a record costs no allocation of its own.
struct field_value {
  value_kind kind = value_kind::null;
  int64_t bits = 0;  ///< boolean (0/1), integer, time; a number's IEEE bits
  text_ref text;     ///< kind text

  static field_value of_bool(bool b) { return {value_kind::boolean, b ? 1 : 0, {}}; }
  static field_value of_int(int64_t i) { return {value_kind::integer, i, {}}; }
  static field_value of_time(int64_t ms) { return {value_kind::time, ms, {}}; }
  static field_value of_text(text_ref r) { return {value_kind::text, 0, r}; }
  static field_value of_number(double d) {
    field_value v{value_kind::number, 0, {}};
    std::memcpy(&v.bits, &d, sizeof d);
    return v;
  }
  bool is_null() const noexcept { return kind == value_kind::null; }
  double number() const noexcept {
    if (kind == value_kind::number) {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    return static_cast<double>(bits);
  }
};

/// Bits of `record_info::quality`: a row that is not a record, kept so that
/// windows can count data quality (`invalid()`, `duplicates()`) by event
/// time. Record sinks and every other aggregate skip them.
namespace record_quality {
constexpr uint8_t invalid = 1 << 0;    ///< quarantined; only its event time is set
constexpr uint8_t duplicate = 1 << 1;  ///< dropped by the dedup key; its fields are whole
} // namespace record_quality

/// Per record: where it came from and what it is beside its fields.
struct record_info {
  int64_t time_ms = 0;      ///< the event time (or the arrival time: see `arrival_time`)
  uint64_t offset = 0;      ///< byte offset of its line in the source
  text_ref extras;          ///< unknown fields kept, as `"k":v,...` JSON ("" for none)
  uint32_t routes = 0;      ///< bit i: the record matched route i
  bool arrival_time = false;  ///< the schema has no time field: `time_ms` is when it was read
  uint8_t quality = 0;        ///< `record_quality` bits; 0: a record
  uint64_t coerced = 0;       ///< bit i: field i (layout order, < 64) was coerced
  uint64_t defaulted = 0;     ///< bit i: field i was absent and took its default

  bool is_record() const noexcept { return quality == 0; }
};

/// The records of an event batch (the ETL job's events): `width` fields
/// each, in the node's record layout, row after row.
struct record_set {
  uint32_t width = 0;
  std::vector<field_value> values;
  std::vector<record_info> rows;

  size_t size() const noexcept { return rows.size(); }
  /// Rows that are records (not kept for data-quality counts only).
  size_t records() const noexcept {
    size_t n = 0;
    for (const auto& r : rows) n += r.is_record();
    return n;
  }
  bool empty() const noexcept { return rows.empty(); }
  const field_value* row(size_t i) const noexcept { return values.data() + i * width; }
  field_value* row(size_t i) noexcept { return values.data() + i * width; }
  void clear() {
    values.clear();
    rows.clear();
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, field_value& x) {
  return f(caf::meta::type_name("vigil.field_value"), x.kind, x.bits, x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_info& x) {
  return f(caf::meta::type_name("vigil.record_info"), x.time_ms, x.offset, x.extras, x.routes, x.arrival_time,
           x.quality, x.coerced, x.defaulted);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_set& x) {
  return f(caf::meta::type_name("vigil.record_set"), x.width, x.values, x.rows);
}

} // namespace vigil
