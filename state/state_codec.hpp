#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

/// Thrown by `state_reader` when the bytes are not what the code expects:
/// a damaged or foreign checkpoint part.
struct state_decode_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Writes a sequence of msgpack values: what stateful components use to
/// checkpoint themselves without including msgpack everywhere.
class state_writer {
public:
  state_writer();
  ~state_writer();
  state_writer(const state_writer&) = delete;
  state_writer& operator=(const state_writer&) = delete;

  void u64(uint64_t v);
  void i64(int64_t v);
  void f64(double v);
  void boolean(bool v);
  void str(std::string_view v);
  void bin(const void* data, size_t size);
  void fields(const std::vector<std::pair<std::string, std::string>>& v);
  /// Begins what `fields` writes, for `pairs` pairs each then written as
  /// two `str` (name, value): fields written without a vector of them.
  void fields_begin(size_t pairs);
  void u64s(const std::vector<uint64_t>& v);

  size_t size() const;
  /// Makes room for `bytes` in all (a checkpoint the size of the last one).
  void reserve(size_t bytes);
  /// What was written; the writer starts over, empty.
  std::string take();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Reads what a `state_writer` wrote, value by value, in the same order.
/// It decodes msgpack's scalar, string and array formats in place: a
/// restart reads tens of millions of values, and msgpack's `unpack` builds
/// a parse context (a heap-allocated stack) and an object for each one.
class state_reader {
public:
  explicit state_reader(std::string_view bytes) : bytes_(bytes) {}

  // Most values are small counters, a byte each: those are read inline.
  uint64_t u64() {
    if (offset_ < bytes_.size() && static_cast<uint8_t>(bytes_[offset_]) <= 0x7f)
      return static_cast<uint8_t>(bytes_[offset_++]);
    return u64_other();
  }
  int64_t i64() {
    if (offset_ < bytes_.size() && static_cast<uint8_t>(bytes_[offset_]) <= 0x7f)
      return static_cast<uint8_t>(bytes_[offset_++]);
    return i64_other();
  }
  double f64();
  bool boolean() {
    if (offset_ < bytes_.size()) {
      const auto b = static_cast<uint8_t>(bytes_[offset_]);
      if (b == 0xc2 || b == 0xc3) return ++offset_, b == 0xc3;
    }
    return boolean_other();
  }
  std::string str();
  std::string bin();
  /// The bytes of a `bin`, in place: valid while the bytes read are.
  std::string_view bin_view();
  std::vector<std::pair<std::string, std::string>> fields();
  /// Reads a field list into `out`, reusing its strings' room.
  void fields_into(std::vector<std::pair<std::string, std::string>>& out);
  std::vector<uint64_t> u64s();
  /// Reads what `u64s` wrote into `out`, reusing its room.
  void u64s_into(std::vector<uint64_t>& out);
  /// Begins reading what `u64s` wrote: the count of integers that follow,
  /// each then read with `u64`.
  size_t u64s_begin();
  /// A count about to drive a loop, checked against what is left to read.
  size_t count();

  bool done() const noexcept { return offset_ >= bytes_.size(); }

private:
  struct integer {
    bool negative;
    uint64_t bits;  // the value, or its two's complement when negative
  };
  uint64_t u64_other();
  int64_t i64_other();
  bool boolean_other();
  uint8_t lead(const char* what);
  const char* take(size_t n, const char* what);
  template <class T>
  T fixed(const char* what);
  bool integer_at(uint8_t b, integer& out, const char* what);
  std::string_view string_at(uint8_t b, bool allow_str, bool allow_bin, const char* what);
  size_t array_header(const char* what);
  [[noreturn]] void mismatch(const char* what) const;

  std::string_view bytes_;
  size_t offset_ = 0;
};

} // namespace vigil
