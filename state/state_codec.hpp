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
class state_reader {
public:
  explicit state_reader(std::string_view bytes);
  ~state_reader();
  state_reader(const state_reader&) = delete;
  state_reader& operator=(const state_reader&) = delete;

  uint64_t u64();
  int64_t i64();
  double f64();
  bool boolean();
  std::string str();
  std::string bin();
  std::vector<std::pair<std::string, std::string>> fields();
  std::vector<uint64_t> u64s();
  /// A count about to drive a loop, checked against what is left to read.
  size_t count();

  bool done() const noexcept { return offset_ >= bytes_.size(); }

private:
  struct impl;
  template <class T>
  T next(const char* what);

  std::string_view bytes_;
  size_t offset_ = 0;
  // One msgpack zone for every value read, cleared as it goes: a restart
  // decodes millions of small values, and a zone each was most of its time.
  std::unique_ptr<impl> impl_;
};

} // namespace vigil
