#include "state/state_codec.hpp"

#include <msgpack.hpp>

#include <cstring>
#include <type_traits>

namespace vigil {

struct state_writer::impl {
  // Written straight into a string, which `take` hands over: a window's
  // 100 MB of state is not copied out of a buffer of msgpack's.
  struct string_stream {
    std::string bytes;
    void write(const char* data, size_t size) { bytes.append(data, size); }
  };
  string_stream buf;
  msgpack::packer<string_stream> pk{buf};
};

state_writer::state_writer() : impl_(std::make_unique<impl>()) {}
state_writer::~state_writer() = default;

void state_writer::u64(uint64_t v) { impl_->pk.pack(v); }
void state_writer::i64(int64_t v) { impl_->pk.pack(v); }
void state_writer::f64(double v) { impl_->pk.pack(v); }
void state_writer::boolean(bool v) { impl_->pk.pack(v); }
void state_writer::str(std::string_view v) {
  impl_->pk.pack_str(static_cast<uint32_t>(v.size()));
  impl_->pk.pack_str_body(v.data(), static_cast<uint32_t>(v.size()));
}
void state_writer::bin(const void* data, size_t size) {
  impl_->pk.pack_bin(static_cast<uint32_t>(size));
  impl_->pk.pack_bin_body(static_cast<const char*>(data), static_cast<uint32_t>(size));
}
void state_writer::fields_begin(size_t pairs) { impl_->pk.pack_array(static_cast<uint32_t>(pairs * 2)); }
void state_writer::fields(const std::vector<std::pair<std::string, std::string>>& v) {
  fields_begin(v.size());
  for (const auto& [k, x] : v) {
    str(k);
    str(x);
  }
}
void state_writer::u64s(const std::vector<uint64_t>& v) { impl_->pk.pack(v); }
size_t state_writer::size() const { return impl_->buf.bytes.size(); }
void state_writer::reserve(size_t bytes) { impl_->buf.bytes.reserve(bytes); }
std::string state_writer::take() {
  std::string out = std::move(impl_->buf.bytes);
  impl_->buf.bytes = {};
  return out;
}

// The formats, from the msgpack specification
// (https://github.com/msgpack/msgpack/blob/master/spec.md); what each
// reader accepts is what msgpack-cxx's `as<T>` accepts for the same T.

void state_reader::mismatch(const char* what) const {
  throw state_decode_error(std::string("state holds no ") + what + " where one was expected (at byte " +
                           std::to_string(offset_) + ")");
}

uint8_t state_reader::lead(const char* what) {
  if (offset_ >= bytes_.size()) throw state_decode_error(std::string("state ends where ") + what + " was expected");
  return static_cast<uint8_t>(bytes_[offset_++]);
}

const char* state_reader::take(size_t n, const char* what) {
  if (n > bytes_.size() - offset_)
    throw state_decode_error(std::string("state ends inside ") + what + " (" + std::to_string(n) + " bytes at byte " +
                             std::to_string(offset_) + ", " + std::to_string(bytes_.size() - offset_) + " left)");
  const char* p = bytes_.data() + offset_;
  offset_ += n;
  return p;
}

template <class T>
T state_reader::fixed(const char* what) {
  const auto* p = reinterpret_cast<const unsigned char*>(take(sizeof(T), what));
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = (v << 8) | p[i];  // big-endian
  if constexpr (std::is_floating_point_v<T>) {
    using bits_t = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    const auto bits = static_cast<bits_t>(v);
    T out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
  } else {
    return static_cast<T>(v);
  }
}

bool state_reader::integer_at(uint8_t b, integer& out, const char* what) {
  auto set_signed = [&](int64_t v) { out = {v < 0, static_cast<uint64_t>(v)}; };
  if (b <= 0x7f) out = {false, b};
  else if (b >= 0xe0) set_signed(static_cast<int8_t>(b));
  else switch (b) {
    case 0xcc: out = {false, fixed<uint8_t>(what)}; break;
    case 0xcd: out = {false, fixed<uint16_t>(what)}; break;
    case 0xce: out = {false, fixed<uint32_t>(what)}; break;
    case 0xcf: out = {false, fixed<uint64_t>(what)}; break;
    case 0xd0: set_signed(static_cast<int8_t>(fixed<uint8_t>(what))); break;
    case 0xd1: set_signed(static_cast<int16_t>(fixed<uint16_t>(what))); break;
    case 0xd2: set_signed(static_cast<int32_t>(fixed<uint32_t>(what))); break;
    case 0xd3: set_signed(static_cast<int64_t>(fixed<uint64_t>(what))); break;
    default: return false;
  }
  return true;
}

std::string_view state_reader::string_at(uint8_t b, bool allow_str, bool allow_bin, const char* what) {
  size_t n;
  if (allow_str && b >= 0xa0 && b <= 0xbf) n = b & 0x1f;
  else if (allow_str && b == 0xd9) n = fixed<uint8_t>(what);
  else if (allow_str && b == 0xda) n = fixed<uint16_t>(what);
  else if (allow_str && b == 0xdb) n = fixed<uint32_t>(what);
  else if (allow_bin && b == 0xc4) n = fixed<uint8_t>(what);
  else if (allow_bin && b == 0xc5) n = fixed<uint16_t>(what);
  else if (allow_bin && b == 0xc6) n = fixed<uint32_t>(what);
  else {
    --offset_;
    mismatch(what);
  }
  return {take(n, what), n};
}

size_t state_reader::array_header(const char* what) {
  const uint8_t b = lead(what);
  size_t n;
  if (b >= 0x90 && b <= 0x9f) n = b & 0x0f;
  else if (b == 0xdc) n = fixed<uint16_t>(what);
  else if (b == 0xdd) n = fixed<uint32_t>(what);
  else {
    --offset_;
    mismatch(what);
  }
  // Every element takes at least one byte: a larger count is damage.
  if (n > bytes_.size() - offset_)
    throw state_decode_error(std::string("state holds ") + what + " of " + std::to_string(n) +
                             " values with fewer bytes left");
  return n;
}

uint64_t state_reader::u64_other() {
  constexpr const char* what = "unsigned integer";
  const size_t at = offset_;
  integer v;
  if (!integer_at(lead(what), v, what) || v.negative) {
    offset_ = at;
    mismatch(what);
  }
  return v.bits;
}

int64_t state_reader::i64_other() {
  constexpr const char* what = "integer";
  const size_t at = offset_;
  integer v;
  if (!integer_at(lead(what), v, what) || (!v.negative && v.bits > uint64_t(INT64_MAX))) {
    offset_ = at;
    mismatch(what);
  }
  return static_cast<int64_t>(v.bits);
}

double state_reader::f64() {
  constexpr const char* what = "number";
  const size_t at = offset_;
  const uint8_t b = lead(what);
  if (b == 0xcb) return fixed<double>(what);
  if (b == 0xca) return fixed<float>(what);
  // msgpack-cxx writes a whole double as an integer.
  integer v;
  if (!integer_at(b, v, what)) {
    offset_ = at;
    mismatch(what);
  }
  return v.negative ? static_cast<double>(static_cast<int64_t>(v.bits)) : static_cast<double>(v.bits);
}

bool state_reader::boolean_other() {
  const uint8_t b = lead("boolean");
  if (b == 0xc2 || b == 0xc3) return b == 0xc3;
  --offset_;
  mismatch("boolean");
}

std::string state_reader::str() {
  const uint8_t b = lead("string");
  return std::string(string_at(b, true, true, "string"));
}

std::string_view state_reader::bin_view() {
  const uint8_t b = lead("bytes");
  return string_at(b, false, true, "bytes");
}

std::string state_reader::bin() { return std::string(bin_view()); }

void state_reader::fields_into(std::vector<std::pair<std::string, std::string>>& out) {
  constexpr const char* what = "field list";
  const size_t n = array_header(what);
  if (n % 2 != 0) throw state_decode_error("state holds a field list of an odd count of " + std::to_string(n));
  out.resize(n / 2);
  for (auto& [name, value] : out) {
    name.assign(string_at(lead(what), true, true, what));
    value.assign(string_at(lead(what), true, true, what));
  }
}

std::vector<std::pair<std::string, std::string>> state_reader::fields() {
  std::vector<std::pair<std::string, std::string>> out;
  fields_into(out);
  return out;
}

size_t state_reader::u64s_begin() { return array_header("integer list"); }

void state_reader::u64s_into(std::vector<uint64_t>& out) {
  out.resize(u64s_begin());
  for (uint64_t& v : out) v = u64();
}

std::vector<uint64_t> state_reader::u64s() {
  std::vector<uint64_t> out;
  u64s_into(out);
  return out;
}

size_t state_reader::count() {
  const uint64_t n = u64();
  // Every counted item takes at least one byte: a larger count is damage.
  if (n > bytes_.size() - std::min(offset_, bytes_.size()))
    throw state_decode_error("state holds a count of " + std::to_string(n) + " with fewer bytes left");
  return static_cast<size_t>(n);
}

} // namespace vigil
