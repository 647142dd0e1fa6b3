#pragma once

#include <memory>
#include <utility>

namespace vigil {

/// A value of T on the heap, made when first asked for: for parts of a
/// window group that most groups never use (a latency sketch in a log
/// without request times, declared metrics in a web-log window), so that
/// such a group pays a pointer for them and not their size. Copies copy
/// the value, as a member of T would.
template <class T>
class value_box {
public:
  value_box() = default;
  value_box(const value_box& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  value_box& operator=(const value_box& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  value_box(value_box&&) noexcept = default;
  value_box& operator=(value_box&&) noexcept = default;

  /// The value, made (default-constructed) if there is none yet.
  T& get() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }
  /// The value if there is one, else null.
  T* find() noexcept { return value_.get(); }
  const T* find() const noexcept { return value_.get(); }
  void reset() noexcept { value_.reset(); }

private:
  std::unique_ptr<T> value_;
};

} // namespace vigil
