#include "messages/event_codec.hpp"

#include "messages/object_budget.hpp"

#include <array>
#include <type_traits>

#include <msgpack.hpp>

#include "messages/errc.hpp"

namespace vigil {

namespace {

constexpr size_t ref_fields = 10;
constexpr size_t max_label_fields = 64;
// One event as fixed-width little-endian fields: time_ms (8), utc_offset_s
// (4), status (2), flags (2), classes (4), agent (1), bytes (8),
// request_time_us (8), line (4), path_length (4), then 10 (offset, length)
// pairs of 4 bytes each.
constexpr size_t event_record_bytes = 8 + 4 + 2 + 2 + 4 + 1 + 8 + 8 + 4 + 4 + ref_fields * 8;

template <class T>
void put_le(std::string& out, T v) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (size_t b = 0; b < sizeof(T); ++b) out += static_cast<char>((u >> (8 * b)) & 0xff);
}

template <class T>
T get_le(const unsigned char*& p) {
  std::make_unsigned_t<T> u = 0;
  for (size_t b = 0; b < sizeof(T); ++b) u |= static_cast<std::make_unsigned_t<T>>(p[b]) << (8 * b);
  p += sizeof(T);
  return static_cast<T>(u);
}

template <class Event>  // log_event or const log_event
auto refs_of(Event& e) {
  return std::array{&e.raw, &e.client, &e.user, &e.method, &e.target, &e.protocol, &e.referer, &e.user_agent,
                    &e.vhost, &e.route};
}

void put_event(std::string& out, const log_event& e) {
  put_le(out, e.time_ms);
  put_le(out, e.utc_offset_s);
  put_le(out, e.status);
  put_le(out, e.flags);
  put_le(out, e.classes);
  put_le(out, e.agent);
  put_le(out, e.bytes);
  put_le(out, e.request_time_us);
  put_le(out, e.line);
  put_le(out, e.path_length);
  for (const text_ref* r : refs_of(e)) {
    put_le(out, r->offset);
    put_le(out, r->length);
  }
}

void get_event(const unsigned char* p, log_event& e) {
  e.time_ms = get_le<int64_t>(p);
  e.utc_offset_s = get_le<int32_t>(p);
  e.status = get_le<uint16_t>(p);
  e.flags = get_le<uint16_t>(p);
  e.classes = get_le<uint32_t>(p);
  e.agent = get_le<uint8_t>(p);
  e.bytes = get_le<uint64_t>(p);
  e.request_time_us = get_le<int64_t>(p);
  e.line = get_le<uint32_t>(p);
  e.path_length = get_le<uint32_t>(p);
  for (text_ref* r : refs_of(e)) {
    r->offset = get_le<uint32_t>(p);
    r->length = get_le<uint32_t>(p);
  }
}

// A record field: kind (1), bits (8), text (offset 4, length 4).
constexpr size_t field_value_bytes = 1 + 8 + 8;
// A record's row: time_ms (8), offset (8), extras (4 + 4), routes (4),
// arrival_time (1), quality (1), coerced (8), defaulted (8).
constexpr size_t record_row_bytes = 8 + 8 + 8 + 4 + 1 + 1 + 8 + 8;
constexpr uint32_t max_record_width = 4096;

void put_records(std::string& values, std::string& rows, const record_set& r) {
  values.reserve(r.values.size() * field_value_bytes);
  for (const auto& v : r.values) {
    put_le(values, static_cast<uint8_t>(v.kind));
    put_le(values, v.bits);
    put_le(values, v.text.offset);
    put_le(values, v.text.length);
  }
  rows.reserve(r.rows.size() * record_row_bytes);
  for (const auto& row : r.rows) {
    put_le(rows, row.time_ms);
    put_le(rows, row.offset);
    put_le(rows, row.extras.offset);
    put_le(rows, row.extras.length);
    put_le(rows, row.routes);
    put_le(rows, static_cast<uint8_t>(row.arrival_time));
    put_le(rows, row.quality);
    put_le(rows, row.coerced);
    put_le(rows, row.defaulted);
  }
}

/// Reads an integer of type T from a msgpack object, refusing other types
/// and values out of T's range.
template <class T>
bool read_int(const msgpack::object& o, T& out) {
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
    out = static_cast<T>(o.via.u64);
    return true;
  }
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    if (!std::numeric_limits<T>::is_signed
        || o.via.i64 < static_cast<int64_t>(std::numeric_limits<T>::min()))
      return false;
    out = static_cast<T>(o.via.i64);
    return true;
  }
  return false;
}

caf::error frame_error(errc code, std::string what) {
  return caf::make_error(code, std::move(what));
}

} // namespace

std::string encode_event_batch(const event_batch& batch) {
  msgpack::sbuffer buf(batch.text.size() + batch.events.size() * 48 + 64);
  msgpack::packer<msgpack::sbuffer> pk(buf);
  // The ETL job's records ride as three more elements (width, fields,
  // rows); a web-log batch stays the 7 it always was.
  const bool with_records = batch.records.width > 0 || !batch.records.empty();
  pk.pack_array(with_records ? 10 : 7);
  pk.pack(event_batch_format_version);
  pk.pack(batch.source);
  pk.pack(batch.sequence);
  pk.pack_bin(static_cast<uint32_t>(batch.text.size()));
  pk.pack_bin_body(batch.text.data(), static_cast<uint32_t>(batch.text.size()));
  // Events as one binary of fixed-width records: a msgpack array of 30
  // integers per event cost more to build and read than the parse did.
  std::string records;
  records.reserve(batch.events.size() * event_record_bytes);
  for (const auto& e : batch.events) put_event(records, e);
  pk.pack_bin(static_cast<uint32_t>(records.size()));
  pk.pack_bin_body(records.data(), static_cast<uint32_t>(records.size()));
  pk.pack(batch.label_names);
  // Labels as one binary of little-endian (offset, length) pairs: a flat
  // array would be bounded by the event-count limit, which they outgrow.
  std::string packed;
  packed.reserve(batch.labels.size() * 8);
  for (const text_ref& r : batch.labels)
    for (uint32_t v : {r.offset, r.length})
      for (int b = 0; b < 4; ++b) packed += static_cast<char>((v >> (8 * b)) & 0xff);
  pk.pack_bin(static_cast<uint32_t>(packed.size()));
  pk.pack_bin_body(packed.data(), static_cast<uint32_t>(packed.size()));
  if (with_records) {
    std::string values, rows;
    put_records(values, rows, batch.records);
    pk.pack(batch.records.width);
    pk.pack_bin(static_cast<uint32_t>(values.size()));
    pk.pack_bin_body(values.data(), static_cast<uint32_t>(values.size()));
    pk.pack_bin(static_cast<uint32_t>(rows.size()));
    pk.pack_bin_body(rows.data(), static_cast<uint32_t>(rows.size()));
  }
  return std::string(buf.data(), buf.size());
}

caf::expected<event_batch> decode_event_batch(const char* data, size_t size,
                                              const decode_limits& limits) {
  if (size > limits.max_frame_bytes)
    return frame_error(errc::limit_exceeded, "frame of " + std::to_string(size)
                                               + " bytes exceeds the limit of "
                                               + std::to_string(limits.max_frame_bytes));
  if (!within_object_budget(data, size))
    return frame_error(errc::limit_exceeded, "more than " + std::to_string(max_frame_objects)
                                               + " msgpack objects");
  msgpack::object_handle handle;
  try {
    // The limits stop a frame that declares a huge array or string from
    // making the decoder allocate for it.
    msgpack::unpack_limit lim(limits.max_events, 0, limits.max_string_bytes,
                              limits.max_string_bytes, 0, 3);
    handle = msgpack::unpack(data, size, nullptr, nullptr, lim);
  } catch (const std::exception& ex) {
    return frame_error(errc::bad_frame, std::string("msgpack: ") + ex.what());
  }
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size == 0)
    return frame_error(errc::bad_frame, "not an array");
  const msgpack::object* f = root.via.array.ptr;
  uint32_t version = 0;
  if (!read_int(f[0], version)) return frame_error(errc::bad_frame, "version is not an integer");
  if (version != event_batch_format_version)
    return frame_error(errc::unsupported_version,
                       "event batch format " + std::to_string(version) + ", this build reads "
                         + std::to_string(event_batch_format_version));
  if (root.via.array.size != 7 && root.via.array.size != 10)
    return frame_error(errc::bad_frame, "not a 7- or 10-element array");
  event_batch batch;
  if (f[1].type != msgpack::type::STR) return frame_error(errc::bad_frame, "source is not a string");
  batch.source.assign(f[1].via.str.ptr, f[1].via.str.size);
  if (!read_int(f[2], batch.sequence)) return frame_error(errc::bad_frame, "bad sequence");
  if (f[3].type != msgpack::type::BIN) return frame_error(errc::bad_frame, "text is not binary");
  batch.text.assign(f[3].via.bin.ptr, f[3].via.bin.size);
  if (f[4].type != msgpack::type::BIN || f[4].via.bin.size % event_record_bytes != 0)
    return frame_error(errc::bad_frame, "events are not whole " + std::to_string(event_record_bytes) + "-byte records");
  const size_t event_count = f[4].via.bin.size / event_record_bytes;
  if (event_count > limits.max_events) return frame_error(errc::limit_exceeded, "too many events");
  batch.events.resize(event_count);
  const uint64_t text_size = batch.text.size();
  const auto* records = reinterpret_cast<const unsigned char*>(f[4].via.bin.ptr);
  for (size_t i = 0; i < event_count; ++i) {
    log_event& e = batch.events[i];
    get_event(records + i * event_record_bytes, e);
    bool ok = e.path_length <= e.target.length;
    for (const text_ref* r : refs_of(e)) ok = ok && uint64_t{r->offset} + r->length <= text_size;
    if (!ok)
      return frame_error(errc::bad_frame, "event " + std::to_string(i)
                                            + " has a bad field or a reference outside the text");
  }
  if (f[5].type != msgpack::type::ARRAY || f[5].via.array.size > max_label_fields)
    return frame_error(errc::bad_frame, "label names are not an array of at most "
                                          + std::to_string(max_label_fields));
  for (uint32_t i = 0; i < f[5].via.array.size; ++i) {
    const msgpack::object& n = f[5].via.array.ptr[i];
    if (n.type != msgpack::type::STR) return frame_error(errc::bad_frame, "a label name is not a string");
    batch.label_names.emplace_back(n.via.str.ptr, n.via.str.size);
  }
  const uint64_t label_count = uint64_t{event_count} * batch.label_names.size();
  if (f[6].type != msgpack::type::BIN || f[6].via.bin.size != label_count * 8)
    return frame_error(errc::bad_frame, "labels do not match events times label names");
  batch.labels.resize(label_count);
  auto u32 = [p = reinterpret_cast<const unsigned char*>(f[6].via.bin.ptr)](uint64_t at) {
    return uint32_t{p[at]} | uint32_t{p[at + 1]} << 8 | uint32_t{p[at + 2]} << 16 | uint32_t{p[at + 3]} << 24;
  };
  for (uint64_t i = 0; i < label_count; ++i) {
    text_ref& r = batch.labels[i];
    r.offset = u32(8 * i);
    r.length = u32(8 * i + 4);
    if (uint64_t{r.offset} + r.length > text_size)
      return frame_error(errc::bad_frame, "label " + std::to_string(i) + " is outside the text");
  }
  if (root.via.array.size == 10) {
    record_set& r = batch.records;
    if (!read_int(f[7], r.width) || r.width > max_record_width)
      return frame_error(errc::bad_frame, "record width is not an integer up to " + std::to_string(max_record_width));
    if (f[8].type != msgpack::type::BIN || f[9].type != msgpack::type::BIN || f[9].via.bin.size % record_row_bytes != 0)
      return frame_error(errc::bad_frame, "records are not whole " + std::to_string(record_row_bytes) + "-byte rows");
    const size_t row_count = f[9].via.bin.size / record_row_bytes;
    if (row_count > limits.max_events) return frame_error(errc::limit_exceeded, "too many records");
    if (f[8].via.bin.size != uint64_t{row_count} * r.width * field_value_bytes)
      return frame_error(errc::bad_frame, "record fields do not match rows times width");
    r.values.resize(row_count * r.width);
    const auto* p = reinterpret_cast<const unsigned char*>(f[8].via.bin.ptr);
    for (size_t i = 0; i < r.values.size(); ++i) {
      field_value& v = r.values[i];
      const uint8_t kind = get_le<uint8_t>(p);
      if (kind > static_cast<uint8_t>(value_kind::time))
        return frame_error(errc::bad_frame, "record field " + std::to_string(i) + " has an unknown kind");
      v.kind = static_cast<value_kind>(kind);
      v.bits = get_le<int64_t>(p);
      v.text.offset = get_le<uint32_t>(p);
      v.text.length = get_le<uint32_t>(p);
      if (uint64_t{v.text.offset} + v.text.length > text_size)
        return frame_error(errc::bad_frame, "record field " + std::to_string(i) + " is outside the text");
    }
    r.rows.resize(row_count);
    p = reinterpret_cast<const unsigned char*>(f[9].via.bin.ptr);
    for (size_t i = 0; i < row_count; ++i) {
      record_info& row = r.rows[i];
      row.time_ms = get_le<int64_t>(p);
      row.offset = get_le<uint64_t>(p);
      row.extras.offset = get_le<uint32_t>(p);
      row.extras.length = get_le<uint32_t>(p);
      row.routes = get_le<uint32_t>(p);
      row.arrival_time = get_le<uint8_t>(p) != 0;
      row.quality = get_le<uint8_t>(p);
      row.coerced = get_le<uint64_t>(p);
      row.defaulted = get_le<uint64_t>(p);
      if (uint64_t{row.extras.offset} + row.extras.length > text_size)
        return frame_error(errc::bad_frame, "record " + std::to_string(i) + " has extras outside the text");
    }
  }
  return batch;
}

} // namespace vigil
