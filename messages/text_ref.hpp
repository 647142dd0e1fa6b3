#pragma once

#include <cstdint>

#include <caf/meta/type_name.hpp>

namespace vigil {

/// A byte range inside an `event_batch`'s text buffer. Events never own
/// strings: they point into the batch, so parsing a line allocates nothing.
struct text_ref {
  uint32_t offset = 0;
  uint32_t length = 0;

  bool empty() const noexcept { return length == 0; }
  friend bool operator==(text_ref a, text_ref b) noexcept {
    return a.offset == b.offset && a.length == b.length;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, text_ref& x) {
  return f(caf::meta::type_name("vigil.text_ref"), x.offset, x.length);
}

} // namespace vigil
