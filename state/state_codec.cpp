#include "state/state_codec.hpp"

#include <msgpack.hpp>

namespace vigil {

struct state_writer::impl {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
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
void state_writer::fields(const std::vector<std::pair<std::string, std::string>>& v) {
  impl_->pk.pack_array(static_cast<uint32_t>(v.size() * 2));
  for (const auto& [k, x] : v) {
    str(k);
    str(x);
  }
}
void state_writer::u64s(const std::vector<uint64_t>& v) { impl_->pk.pack(v); }
size_t state_writer::size() const { return impl_->buf.size(); }
std::string state_writer::take() {
  std::string out(impl_->buf.data(), impl_->buf.size());
  impl_->buf.clear();
  return out;
}

namespace {

template <class T>
T next(std::string_view bytes, size_t& offset, const char* what) {
  if (offset >= bytes.size()) throw state_decode_error(std::string("state ends where ") + what + " was expected");
  try {
    auto h = msgpack::unpack(bytes.data(), bytes.size(), offset);
    return h.get().as<T>();
  } catch (const state_decode_error&) {
    throw;
  } catch (const std::exception& ex) {
    throw state_decode_error(std::string("state holds no ") + what + " where one was expected (" + ex.what() + ")");
  }
}

} // namespace

uint64_t state_reader::u64() { return next<uint64_t>(bytes_, offset_, "unsigned integer"); }
int64_t state_reader::i64() { return next<int64_t>(bytes_, offset_, "integer"); }
double state_reader::f64() { return next<double>(bytes_, offset_, "number"); }
bool state_reader::boolean() { return next<bool>(bytes_, offset_, "boolean"); }
std::string state_reader::str() { return next<std::string>(bytes_, offset_, "string"); }
std::string state_reader::bin() {
  if (offset_ >= bytes_.size()) throw state_decode_error("state ends where bytes were expected");
  try {
    auto h = msgpack::unpack(bytes_.data(), bytes_.size(), offset_);
    if (h.get().type != msgpack::type::BIN) throw state_decode_error("state holds no bytes where some were expected");
    return std::string(h.get().via.bin.ptr, h.get().via.bin.size);
  } catch (const state_decode_error&) {
    throw;
  } catch (const std::exception& ex) {
    throw state_decode_error(std::string("state does not decode: ") + ex.what());
  }
}
std::vector<std::pair<std::string, std::string>> state_reader::fields() {
  auto flat = next<std::vector<std::string>>(bytes_, offset_, "field list");
  if (flat.size() % 2 != 0) throw state_decode_error("state holds an odd field list");
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < flat.size(); i += 2) out.emplace_back(std::move(flat[i]), std::move(flat[i + 1]));
  return out;
}
std::vector<uint64_t> state_reader::u64s() { return next<std::vector<uint64_t>>(bytes_, offset_, "integer list"); }
size_t state_reader::count() {
  const uint64_t n = u64();
  // Every counted item takes at least one byte: a larger count is damage.
  if (n > bytes_.size() - std::min(offset_, bytes_.size()))
    throw state_decode_error("state holds a count of " + std::to_string(n) + " with fewer bytes left");
  return static_cast<size_t>(n);
}

} // namespace vigil
