#include "record/schema_validator.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "json/json_text.hpp"
#include "parse/timestamp.hpp"

namespace vigil {

namespace od = simdjson::ondemand;

std::string_view to_string(record_error e) noexcept {
  switch (e) {
    case record_error::none: return "none";
    case record_error::bad_json: return "bad_json";
    case record_error::missing_field: return "missing_field";
    case record_error::bad_type: return "bad_type";
    case record_error::out_of_range: return "out_of_range";
    case record_error::not_in_enum: return "not_in_enum";
    case record_error::too_long: return "too_long";
    case record_error::unknown_field: return "unknown_field";
    case record_error::missing_key: return "missing_key";
    case record_error::bad_value: return "bad_value";
    case record_error::future_timestamp: return "future_timestamp";
  }
  return "unknown";
}

namespace {

std::string_view trim_view(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, int64_t& out) noexcept {
  s = trim_view(s);
  if (s.empty() || s.size() > 20) return false;
  bool negative = s.front() == '-';
  if (negative || s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t next = x * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != x) return false;
    x = next;
  }
  if (x > static_cast<uint64_t>(INT64_MAX)) return false;
  out = negative ? -static_cast<int64_t>(x) : static_cast<int64_t>(x);
  return true;
}

bool parse_double(std::string_view s, double& out) {
  s = trim_view(s);
  if (s.empty() || s.size() > 64) return false;
  char buf[72];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  out = std::strtod(buf, &end);
  return end == buf + s.size() && std::isfinite(out);
}

// Epoch seconds below 10^11 (until the year 5138), milliseconds above.
int64_t epoch_to_ms(double t) { return std::fabs(t) < 1e11 ? static_cast<int64_t>(std::llround(t * 1000)) : static_cast<int64_t>(std::llround(t)); }

std::string cut(std::string_view s) { return std::string(s.substr(0, 256)); }

} // namespace

schema_validator::schema_validator(const schema_config& schema, const record_layout& layout) : schema_(schema) {
  for (const auto& f : schema.fields) {
    compiled_field c;
    c.cfg = f;
    c.slot = layout.index_of(f.name).value_or(0);
    for (const auto& v : f.values) c.values.insert(v);
    by_name_.emplace(f.name, fields_.size());
    if (f.name == schema.time_field) time_slot_ = static_cast<int>(fields_.size());
    fields_.push_back(std::move(c));
  }
  quality_.resize(fields_.size());
  seen_.resize(fields_.size());
}

bool schema_validator::take_text(const compiled_field& f, size_t index, std::string_view text, bool in_line, uint32_t at,
                                 event_batch& batch, field_value& out, record_problem& why, bool coerced) {
  auto fail = [&](record_error e) {
    why = {e, f.cfg.name, cut(text)};
    ++quality_[index].invalid;
    return false;
  };
  switch (f.cfg.type) {
    case field_type::string:
    case field_type::enumeration: {
      std::string_view s = text;
      if (f.cfg.trim) {
        std::string_view t = trim_view(s);
        at += static_cast<uint32_t>(t.data() - s.data());
        s = t;
      }
      if (f.cfg.max_length > 0 && s.size() > f.cfg.max_length) return fail(record_error::too_long);
      text_ref ref;
      if (f.cfg.letter_case != text_case::keep) {
        scratch_.assign(s);
        for (char& c : scratch_)
          c = static_cast<char>(f.cfg.letter_case == text_case::lower ? std::tolower(static_cast<unsigned char>(c))
                                                                       : std::toupper(static_cast<unsigned char>(c)));
        s = scratch_;
        in_line = false;
      }
      if (f.cfg.type == field_type::enumeration && !f.values.count(s)) return fail(record_error::not_in_enum);
      ref = in_line ? text_ref{at, static_cast<uint32_t>(s.size())} : batch.append(s);
      out = field_value::of_text(ref);
      break;
    }
    case field_type::integer: {
      int64_t i;
      double d;
      if (parse_int(text, i)) {
      } else if (parse_double(text, d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
        i = static_cast<int64_t>(d);
      } else {
        return fail(record_error::bad_type);
      }
      if ((f.cfg.has_min && static_cast<double>(i) < f.cfg.min) || (f.cfg.has_max && static_cast<double>(i) > f.cfg.max))
        return fail(record_error::out_of_range);
      out = field_value::of_int(i);
      break;
    }
    case field_type::number: {
      double d;
      if (!parse_double(text, d)) return fail(record_error::bad_type);
      if ((f.cfg.has_min && d < f.cfg.min) || (f.cfg.has_max && d > f.cfg.max)) return fail(record_error::out_of_range);
      out = field_value::of_number(d);
      break;
    }
    case field_type::boolean: {
      std::string_view s = trim_view(text);
      if (s == "true" || s == "1" || s == "yes") out = field_value::of_bool(true);
      else if (s == "false" || s == "0" || s == "no") out = field_value::of_bool(false);
      else return fail(record_error::bad_type);
      break;
    }
    case field_type::timestamp: {
      log_time t;
      double epoch;
      if (parse_rfc3339_time(trim_view(text), t)) out = field_value::of_time(t.utc_ms);
      else if (parse_double(text, epoch)) out = field_value::of_time(epoch_to_ms(epoch));
      else return fail(record_error::bad_type);
      break;
    }
  }
  if (coerced) {
    ++quality_[index].coerced;
    if (info_ && f.slot < 64) info_->coerced |= uint64_t{1} << f.slot;
  }
  return true;
}

bool schema_validator::take(const compiled_field& f, size_t index, od::value& v, uint32_t base, event_batch& batch,
                            field_value& out, record_problem& why) {
  od::json_type type;
  if (v.type().get(type)) {
    why = {record_error::bad_json, f.cfg.name, ""};
    return false;
  }
  std::string_view token = trim_view(v.raw_json_token());
  auto bad_type = [&] {
    why = {record_error::bad_type, f.cfg.name, cut(token)};
    ++quality_[index].invalid;
    return false;
  };
  const bool textual = f.cfg.type == field_type::string || f.cfg.type == field_type::enumeration;
  switch (type) {
    case od::json_type::string: {
      std::string_view inner = token.substr(1, token.size() >= 2 ? token.size() - 2 : 0);
      const bool plain = std::memchr(inner.data(), '\\', inner.size()) == nullptr;
      std::string_view text = inner;
      if (!plain && v.get_string().get(text)) return bad_type();
      const uint32_t at = base + static_cast<uint32_t>(inner.data() - padded_.data());
      // RFC 3339 in a string is a timestamp as written; other strings for
      // typed fields need coerce.
      if (!textual && !f.cfg.coerce) {
        log_time t;
        if (f.cfg.type == field_type::timestamp && parse_rfc3339_time(text, t)) {
          out = field_value::of_time(t.utc_ms);
          return true;
        }
        return bad_type();
      }
      return take_text(f, index, text, plain, at, batch, out, why, !textual);
    }
    case od::json_type::number: {
      if (textual && !f.cfg.coerce) return bad_type();
      if (f.cfg.type == field_type::boolean && !f.cfg.coerce) return bad_type();
      return take_text(f, index, token, true, base + static_cast<uint32_t>(token.data() - padded_.data()), batch, out,
                       why, textual || f.cfg.type == field_type::boolean);
    }
    case od::json_type::boolean: {
      if (f.cfg.type == field_type::boolean) {
        out = field_value::of_bool(token == "true");
        return true;
      }
      if (!f.cfg.coerce || !textual) return bad_type();
      return take_text(f, index, token, true, base + static_cast<uint32_t>(token.data() - padded_.data()), batch, out,
                       why, true);
    }
    default: return bad_type();  // objects and arrays are not field values
  }
}

bool schema_validator::take_default(const compiled_field& f, size_t index, event_batch& batch, field_value& out,
                                    record_problem& why) {
  ++quality_[index].defaulted;
  if (info_ && f.slot < 64) info_->defaulted |= uint64_t{1} << f.slot;
  // Checked at config load, so this cannot fail on good config; the
  // text is appended so that strings point into the batch.
  const text_ref r = batch.append(f.cfg.default_text);
  return take_text(f, index, f.cfg.default_text, true, r.offset, batch, out, why, false);
}

bool schema_validator::validate(std::string_view line, uint32_t base, event_batch& batch, field_value* row,
                                record_info& info, record_problem& why) {
  info_ = &info;
  const size_t need = line.size() + simdjson::SIMDJSON_PADDING;
  if (padded_.size() < need) padded_.resize(need);
  std::memcpy(padded_.data(), line.data(), line.size());
  std::memset(padded_.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  auto bad_json = [&](std::string_view detail) {
    why = {record_error::bad_json, "", std::string(detail)};
    return false;
  };
  const bool object_like = !trim_view(line).empty() && trim_view(line).front() == '{';
  const char* what = object_like ? "malformed JSON object (cut short?)" : "not a JSON object";
  od::document doc;
  if (parser_.iterate(padded_.data(), line.size(), padded_.size()).get(doc)) return bad_json(what);
  od::object obj;
  if (doc.get_object().get(obj)) return bad_json(what);
  std::fill(seen_.begin(), seen_.end(), 0);
  std::string& extras = extras_;
  extras.clear();
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field)) return bad_json("malformed JSON object (cut short?)");
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad_json("malformed key");
    auto it = by_name_.find(key);
    od::value v = field.value();
    if (it == by_name_.end()) {
      if (schema_.extra == extra_fields::drop) continue;
      std::string_view raw = trim_view(v.raw_json_token());
      if (schema_.extra == extra_fields::quarantine) {
        why = {record_error::unknown_field, std::string(key), cut(raw)};
        return false;
      }
      // Kept as written: `"key":value`.
      if (!extras.empty()) extras += ',';
      append_json_string(extras, key);
      extras += ':';
      // An object or array value: its raw token is only its start; take
      // the whole value as text.
      od::json_type type;
      if (!v.type().get(type) && (type == od::json_type::object || type == od::json_type::array)) {
        std::string_view whole;
        bool failed;
        if (type == od::json_type::object) {
          od::object o;
          failed = v.get_object().get(o) || o.raw_json().get(whole);
        } else {
          od::array a;
          failed = v.get_array().get(a) || a.raw_json().get(whole);
        }
        if (failed) return bad_json("malformed value of " + std::string(key));
        extras.append(trim_view(whole));
      } else {
        extras.append(raw);
      }
      continue;
    }
    const size_t index = it->second;
    const compiled_field& f = fields_[index];
    od::json_type type;
    if (v.type().get(type)) return bad_json("malformed value of " + std::string(key));
    if (type == od::json_type::null) continue;  // as if absent
    if (!take(f, index, v, base, batch, row[f.slot], why)) return false;
    seen_[index] = 1;
  }
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (seen_[i]) continue;
    const compiled_field& f = fields_[i];
    if (f.cfg.has_default) {
      if (!take_default(f, i, batch, row[f.slot], why)) return false;
    } else if (f.cfg.required) {
      why = {record_error::missing_field, f.cfg.name, ""};
      ++quality_[i].invalid;
      return false;
    } else {
      ++quality_[i].nulls;
    }
  }
  info.time_ms = time_slot_ >= 0 && !row[fields_[time_slot_].slot].is_null() ? row[fields_[time_slot_].slot].bits : INT64_MIN;
  info.extras = extras.empty() ? text_ref{} : batch.append(extras);
  return true;
}

std::optional<int64_t> schema_validator::time_of(std::string_view line) {
  if (time_slot_ < 0) return std::nullopt;
  const compiled_field& f = fields_[static_cast<size_t>(time_slot_)];
  simdjson::padded_string padded(line);
  od::document doc;
  od::value v;
  if (parser_.iterate(padded).get(doc) || doc.find_field_unordered(f.cfg.name).get(v)) return std::nullopt;
  std::string_view token = trim_view(v.raw_json_token());
  if (!token.empty() && token.front() == '"') token = token.substr(1, token.size() >= 2 ? token.size() - 2 : 0);
  log_time t;
  double epoch;
  if (parse_rfc3339_time(token, t)) return t.utc_ms;
  if (parse_double(token, epoch)) return epoch_to_ms(epoch);
  return std::nullopt;
}

} // namespace vigil
