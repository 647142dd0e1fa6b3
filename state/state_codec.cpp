#include "state/state_codec.hpp"

#include <msgpack.hpp>

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

struct state_reader::impl {
  msgpack::zone zone;
  size_t values = 0;
};

state_reader::state_reader(std::string_view bytes) : bytes_(bytes), impl_(std::make_unique<impl>()) {}
state_reader::~state_reader() = default;

namespace {

// Strings and bytes are read in place, not copied into the zone.
bool in_place(msgpack::type::object_type, std::size_t, void*) { return true; }

} // namespace

template <class T>
T state_reader::next(const char* what) {
  if (offset_ >= bytes_.size()) throw state_decode_error(std::string("state ends where ") + what + " was expected");
  // The zone grows by chunks; clear it now and then, not per value.
  if (++impl_->values % 4096 == 0) impl_->zone.clear();
  try {
    msgpack::object o = msgpack::unpack(impl_->zone, bytes_.data(), bytes_.size(), offset_, in_place);
    if constexpr (std::is_same_v<T, msgpack::object>) return o;
    else return o.as<T>();
  } catch (const state_decode_error&) {
    throw;
  } catch (const std::exception& ex) {
    throw state_decode_error(std::string("state holds no ") + what + " where one was expected (" + ex.what() + ")");
  }
}

uint64_t state_reader::u64() { return next<uint64_t>("unsigned integer"); }
int64_t state_reader::i64() { return next<int64_t>("integer"); }
double state_reader::f64() { return next<double>("number"); }
bool state_reader::boolean() { return next<bool>("boolean"); }
std::string state_reader::str() { return next<std::string>("string"); }
std::string state_reader::bin() {
  msgpack::object o = next<msgpack::object>("bytes");
  if (o.type != msgpack::type::BIN) throw state_decode_error("state holds no bytes where some were expected");
  return std::string(o.via.bin.ptr, o.via.bin.size);
}
std::vector<std::pair<std::string, std::string>> state_reader::fields() {
  msgpack::object o = next<msgpack::object>("field list");
  if (o.type != msgpack::type::ARRAY || o.via.array.size % 2 != 0)
    throw state_decode_error("state holds no field list where one was expected");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(o.via.array.size / 2);
  try {
    for (uint32_t i = 0; i < o.via.array.size; i += 2)
      out.emplace_back(o.via.array.ptr[i].as<std::string>(), o.via.array.ptr[i + 1].as<std::string>());
  } catch (const std::exception& ex) {
    throw state_decode_error(std::string("state holds a bad field list (") + ex.what() + ")");
  }
  return out;
}
std::vector<uint64_t> state_reader::u64s() { return next<std::vector<uint64_t>>("integer list"); }
size_t state_reader::count() {
  const uint64_t n = u64();
  // Every counted item takes at least one byte: a larger count is damage.
  if (n > bytes_.size() - std::min(offset_, bytes_.size()))
    throw state_decode_error("state holds a count of " + std::to_string(n) + " with fewer bytes left");
  return static_cast<size_t>(n);
}

} // namespace vigil
