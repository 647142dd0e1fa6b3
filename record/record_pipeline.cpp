#include "record/record_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <simdjson.h>

#include "parse/timestamp.hpp"
#include "record/record_format.hpp"

namespace vigil {

std::shared_ptr<lookup_tables> load_lookup_tables(const std::vector<lookup_config>& lookups) {
  std::vector<lookup_tables::entry> entries;
  for (const auto& l : lookups) entries.push_back({"lookup " + l.name, l.path});
  return std::make_shared<lookup_tables>(
    entries, [lookups](size_t i, std::string& error) { return lookup_table::load(lookups[i], error); }, "rows");
}

std::optional<record_plan> record_plan::make(const vigil_config& cfg, const source_config& s, std::string& error) {
  record_plan p;
  std::string layout_error;
  p.layout = record_layout::of(cfg, &layout_error);
  if (!layout_error.empty()) {
    error = "schema: " + layout_error;
    return std::nullopt;
  }
  auto schema = std::find_if(cfg.schemas.begin(), cfg.schemas.end(), [&](const auto& x) { return x.name == s.schema; });
  if (schema == cfg.schemas.end()) {
    error = "source[" + s.name + "].schema: no schema named \"" + s.schema + "\"";
    return std::nullopt;
  }
  p.schema = *schema;
  if (!p.schema.dedup_key.empty()) {
    auto slot = p.layout.index_of(p.schema.dedup_key);
    if (!slot) {
      error = "schema[" + p.schema.name + "].dedup_key: no field \"" + p.schema.dedup_key + "\"";
      return std::nullopt;
    }
    p.dedup_slot = static_cast<int>(*slot);
  }
  for (const auto& t : cfg.transforms) {
    if (!t.sources.empty() && std::find(t.sources.begin(), t.sources.end(), s.name) == t.sources.end()) continue;
    auto zone = expr::parse_time_zone(t.time_zone);
    if (!zone) {
      error = "transform[" + t.name + "].time_zone: expected \"UTC\", an offset like \"+02:00\" or a zone name like \"Europe/Berlin\", got \"" + t.time_zone + "\"";
      return std::nullopt;
    }
    std::string why;
    auto program = expr::program::compile(t.expr, layout_names(p.layout, *zone), why);
    if (!program) {
      error = "transform[" + t.name + "].expr: " + why;
      return std::nullopt;
    }
    p.transforms.push_back({t.name, *p.layout.index_of(t.name), std::move(*program)});
  }
  for (size_t i = 0; i < cfg.lookups.size(); ++i) {
    const auto& l = cfg.lookups[i];
    lookup k{l, i, {}, {}};
    const auto& on = l.on.empty() ? l.key : l.on;
    for (const auto& f : on) {
      auto slot = p.layout.index_of(f);
      if (!slot) {
        error = "lookup[" + l.name + "]." + (l.on.empty() ? "key" : "on") + ": no record field \"" + f + "\" ("
                + p.layout.listing() + ")";
        return std::nullopt;
      }
      k.on_slots.push_back(*slot);
    }
    for (const auto& f : l.fields) k.field_slots.push_back(*p.layout.index_of(f));
    p.lookups.push_back(std::move(k));
  }
  if (!s.filter.empty()) {
    std::string why;
    p.filter = expr::program::compile(s.filter, layout_names(p.layout), why);
    if (!p.filter) {
      error = "source[" + s.name + "].filter: " + why;
      return std::nullopt;
    }
  }
  for (const auto& r : cfg.routes) {
    std::string why;
    auto program = expr::program::compile(r.when, layout_names(p.layout), why);
    if (!program) {
      error = "route[" + r.name + "].when: " + why;
      return std::nullopt;
    }
    p.routes.push_back(std::move(*program));
  }
  return p;
}

record_pipeline::record_pipeline(std::shared_ptr<const record_plan> plan, std::shared_ptr<lookup_tables> tables,
                                 size_t max_line_bytes)
  : plan_(std::move(plan)),
    tables_(std::move(tables)),
    max_line_bytes_(max_line_bytes),
    validator_(plan_->schema, plan_->layout) {}

void record_pipeline::store(event_batch& batch, field_value& slot, const expr::value& v) {
  switch (v.type) {
    case expr::value::kind::null: slot = {}; return;
    case expr::value::kind::boolean: slot = field_value::of_bool(v.num != 0); return;
    case expr::value::kind::time: slot = field_value::of_time(static_cast<int64_t>(v.num)); return;
    case expr::value::kind::number:
      // Whole numbers stay integers: `quantity * 2` of an int is an int in the record.
      if (v.num == std::floor(v.num) && std::fabs(v.num) < 9e15) slot = field_value::of_int(static_cast<int64_t>(v.num));
      else slot = field_value::of_number(v.num);
      return;
    case expr::value::kind::text: {
      const char* base = batch.text.data();
      if (v.text.data() >= base && v.text.data() + v.text.size() <= base + batch.text.size()) {
        // A part of the batch (a field, trimmed or cut): no copy.
        slot = field_value::of_text({static_cast<uint32_t>(v.text.data() - base), static_cast<uint32_t>(v.text.size())});
      } else {
        slot = field_value::of_text(batch.append(v.text));
      }
      return;
    }
  }
}

bool record_pipeline::finish(event_batch& batch, field_value* row, record_info& info, record_problem& why,
                             duplicate_filter* dedup, record_tally& tally, bool& dropped) {
  const record_plan& p = *plan_;
  std::string& scratch = scratch_;
  if (dedup && dedup->enabled() && p.dedup_slot >= 0 && !row[p.dedup_slot].is_null()) {
    std::string_view key = value_text(row[p.dedup_slot], batch.text, scratch);
    if (dedup->seen(key, info.time_ms)) {
      // Kept, flagged, through the transforms and lookups: windows count
      // duplicates() per group; sinks and other aggregates skip it.
      ++tally.duplicates;
      info.quality |= record_quality::duplicate;
    }
  }
  for (const auto& t : p.transforms) {
    arena_.reset();
    expr::value v = t.program.eval(record_scope(row, batch.text), arena_);
    store(batch, row[t.slot], v);
  }
  for (const auto& l : p.lookups) {
    const lookup_table* table = l.table < snapshot_.size() ? snapshot_[l.table].get() : nullptr;
    const std::string* found = nullptr;
    if (table) {
      std::string_view key;
      if (l.on_slots.size() == 1) {
        key = value_text(row[l.on_slots[0]], batch.text, scratch);
      } else {
        key_.clear();
        for (size_t k = 0; k < l.on_slots.size(); ++k) {
          if (k > 0) key_ += lookup_table::key_separator;
          key_.append(value_text(row[l.on_slots[k]], batch.text, scratch));
        }
        key = key_;
      }
      found = table->find(key);
    }
    if (!found) {
      ++tally.missing_keys;
      if (l.cfg.on_missing == missing_key::drop) {
        dropped = true;
        return true;
      }
      if (l.cfg.on_missing == missing_key::quarantine) {
        std::string key_text;
        for (size_t k = 0; k < l.on_slots.size(); ++k)
          key_text += (k ? "," : "") + std::string(value_text(row[l.on_slots[k]], batch.text, scratch));
        why = {record_error::missing_key, l.cfg.name, key_text};
        return false;
      }
      continue;
    }
    for (size_t k = 0; k < l.field_slots.size(); ++k) row[l.field_slots[k]] = field_value::of_text(batch.append(found[k]));
  }
  if (p.filter) {
    arena_.reset();
    if (!p.filter->eval(record_scope(row, batch.text), arena_).truthy()) {
      ++tally.filtered;
      dropped = true;
      return true;
    }
  }
  info.routes = 0;
  for (size_t r = 0; r < p.routes.size() && r < 32; ++r) {
    arena_.reset();
    if (p.routes[r].eval(record_scope(row, batch.text), arena_).truthy()) info.routes |= 1u << r;
  }
  return true;
}

void record_pipeline::run(size_t size, event_batch& batch, std::vector<record_failure>& failures,
                          duplicate_filter* dedup, record_tally& tally, int64_t now_ms, int64_t latest_ms) {
  snapshot_ = tables_ ? tables_->snapshot() : std::vector<std::shared_ptr<const lookup_table>>{};
  record_set& out = batch.records;
  out.width = static_cast<uint32_t>(plan_->layout.size());
  // About a record per 150 bytes: one allocation per batch, not growth steps.
  out.rows.reserve(size / 150 + 16);
  out.values.reserve(out.rows.capacity() * out.width);
  const bool all_utf8 = simdjson::validate_utf8(batch.text.data(), size);
  size_t pos = 0, records = 0;
  record_problem why;
  while (pos < size) {
    // Offsets only: appending cleaned strings may move the text.
    const char* text = batch.text.data();
    auto nl = static_cast<const char*>(std::memchr(text + pos, '\n', size - pos));
    const size_t end = nl ? static_cast<size_t>(nl - text) : size;
    size_t len = end - pos;
    if (len > 0 && text[pos + len - 1] == '\r') --len;
    const auto base = static_cast<uint32_t>(pos);
    pos = end + 1;
    if (len == 0) continue;
    auto fail = [&](record_error e, std::string detail) {
      failures.push_back({text_ref{base, static_cast<uint32_t>(std::min(len, max_line_bytes_))}, {e, "", std::move(detail)}});
      ++tally.invalid[static_cast<size_t>(e)];
    };
    if (len > max_line_bytes_) {
      fail(record_error::too_long, std::to_string(len) + " bytes");
      continue;
    }
    std::string_view line(text + base, len);
    if (!all_utf8 && !simdjson::validate_utf8(line.data(), line.size())) {
      fail(record_error::bad_json, "not UTF-8");
      continue;
    }
    const size_t values_at = out.values.size();
    out.values.resize(values_at + out.width);
    record_info info;
    info.offset = base;
    bool ok = validator_.validate(line, base, batch, out.values.data() + values_at, info, why);
    if (ok && (!validator_.has_time_field() || info.time_ms == INT64_MIN)) {
      info.time_ms = now_ms;
      info.arrival_time = true;
    }
    if (ok && info.time_ms > latest_ms) {
      ok = false;
      why = {record_error::future_timestamp, validator_.schema().time_field, format_rfc3339_utc(info.time_ms)};
    }
    bool dropped = false;
    if (ok) ok = finish(batch, out.values.data() + values_at, info, why, dedup, tally, dropped);
    if (!ok) {
      failures.push_back({text_ref{base, static_cast<uint32_t>(len)}, why});
      ++tally.invalid[static_cast<size_t>(why.reason)];
    }
    // A future event time is what is wrong with it: no row of its time.
    if (dropped || (!ok && why.reason == record_error::future_timestamp)) {
      out.values.resize(values_at);
      continue;
    }
    if (!ok) {
      // An invalid event with a good event time stays as a row of its time
      // alone: windows count it in invalid().
      std::fill(out.values.begin() + static_cast<std::ptrdiff_t>(values_at), out.values.end(), field_value{});
      const auto t = validator_.time_of(std::string_view(batch.text.data() + base, len));
      if (!t) {
        out.values.resize(values_at);
        continue;
      }
      info = record_info{};
      info.time_ms = *t;
      info.offset = base;
      info.quality = record_quality::invalid;
    }
    if (info.is_record()) ++records;
    out.rows.push_back(info);
  }
  tally.records += records;
  // Per field, once a batch: what this stage counted since the last one.
  const auto& quality = validator_.quality();
  if (tally.fields && tally.field_names.size() == quality.size()) {
    reported_.resize(quality.size());
    for (size_t i = 0; i < quality.size(); ++i) {
      auto& to = tally.fields[i];
      to.nulls += quality[i].nulls - reported_[i].nulls;
      to.invalid += quality[i].invalid - reported_[i].invalid;
      to.coerced += quality[i].coerced - reported_[i].coerced;
      to.defaulted += quality[i].defaulted - reported_[i].defaulted;
    }
    reported_ = quality;
  }
}

} // namespace vigil
