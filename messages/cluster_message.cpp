#include "messages/cluster_message.hpp"

#include "messages/object_budget.hpp"

#include <msgpack.hpp>

#include "messages/errc.hpp"

namespace vigil {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_bytes(packer& pk, std::string_view bytes) {
  pk.pack_bin(static_cast<uint32_t>(bytes.size()));
  pk.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
}

template <class Fill>
std::string packed(uint32_t fields, Fill fill) {
  msgpack::sbuffer buf;
  packer pk(buf);
  pk.pack_array(fields);
  fill(pk);
  return std::string(buf.data(), buf.size());
}

caf::error bad(const char* message, std::string what) {
  return caf::make_error(errc::bad_frame, std::string(message) + ": " + std::move(what));
}

/// The fields of one message body, read with bounds; the first failure
/// names the field.
class fields {
public:
  /// A body of `count` fields; with `least`, one of an older sender may
  /// stop after `least` (the ones it lacks read as their defaults).
  fields(std::string_view body, const char* message, uint32_t count, uint32_t least = 0) : message_(message) {
    if (least == 0) least = count;
    if (!within_object_budget(body.data(), body.size())) {
      error_ = "msgpack: more than " + std::to_string(max_frame_objects) + " objects";
      return;
    }
    try {
      // No message of these holds more than a few thousand items; the
      // limits stop a hostile size prefix from allocating.
      msgpack::unpack_limit lim(1u << 16, 1u << 16, 64u << 20, 64u << 20, 0, 4);
      // Binaries are referenced, not copied: an event batch is read in
      // place (its views point into `body`, which the caller keeps).
      auto reference_bin = [](msgpack::type::object_type type, size_t, void*) { return type == msgpack::type::BIN; };
      handle_ = msgpack::unpack(body.data(), body.size(), reference_bin, nullptr, lim);
    } catch (const std::exception& ex) {
      error_ = std::string("msgpack: ") + ex.what();
      return;
    }
    const auto& root = handle_.get();
    if (root.type != msgpack::type::ARRAY || root.via.array.size < least || root.via.array.size > count) {
      error_ = "not an array of " + (least == count ? "" : std::to_string(least) + " to ") + std::to_string(count);
      return;
    }
    items_ = root.via.array.ptr;
    size_ = root.via.array.size;
  }

  /// Whether the body has field `i` (an older sender's may stop short).
  bool has(uint32_t i) const noexcept { return ok() && i < size_; }

  bool u64(uint32_t i, const char* name, uint64_t& out) {
    if (!ok()) return false;
    if (items_[i].type != msgpack::type::POSITIVE_INTEGER) return fail(name, "is not an unsigned integer");
    out = items_[i].via.u64;
    return true;
  }
  bool flag(uint32_t i, const char* name, bool& out) {
    if (!ok()) return false;
    if (items_[i].type != msgpack::type::BOOLEAN) return fail(name, "is not a boolean");
    out = items_[i].via.boolean;
    return true;
  }
  bool text(uint32_t i, const char* name, std::string& out) {
    std::string_view v;
    if (!view(items_ ? &items_[i] : nullptr, name, msgpack::type::STR, v)) return false;
    out.assign(v);
    return true;
  }
  bool bytes(uint32_t i, const char* name, std::string_view& out) {
    return view(items_ ? &items_[i] : nullptr, name, msgpack::type::BIN, out);
  }
  /// An array; `each(j, object)` reads item j and returns false to stop.
  template <class Each>
  bool list(uint32_t i, const char* name, Each each) {
    if (!ok()) return false;
    if (items_[i].type != msgpack::type::ARRAY) return fail(name, "is not an array");
    const auto& a = items_[i].via.array;
    for (uint32_t j = 0; j < a.size; ++j)
      if (!each(a.ptr[j])) return fail(name, "item " + std::to_string(j) + " is malformed");
    return true;
  }
  static bool item_text(const msgpack::object& o, std::string& out) {
    if (o.type != msgpack::type::STR) return false;
    out.assign(o.via.str.ptr, o.via.str.size);
    return true;
  }
  static bool item_bytes(const msgpack::object& o, std::string& out) {
    if (o.type != msgpack::type::BIN) return false;
    out.assign(o.via.bin.ptr, o.via.bin.size);
    return true;
  }

  bool ok() const noexcept { return error_.empty(); }
  caf::error error() const { return bad(message_, error_); }

private:
  bool view(const msgpack::object* o, const char* name, msgpack::type::object_type type, std::string_view& out) {
    if (!ok()) return false;
    if (o->type != type) return fail(name, type == msgpack::type::STR ? "is not a string" : "is not binary");
    out = type == msgpack::type::STR ? std::string_view(o->via.str.ptr, o->via.str.size)
                                     : std::string_view(o->via.bin.ptr, o->via.bin.size);
    return true;
  }
  bool fail(const char* name, const std::string& what) {
    if (ok()) error_ = std::string(name) + " " + what;
    return false;
  }

  const char* message_;
  msgpack::object_handle handle_;
  const msgpack::object* items_ = nullptr;
  uint32_t size_ = 0;
  std::string error_;
};

template <class T>
caf::expected<T> done(const fields& f, T&& value) {
  if (!f.ok()) return f.error();
  return std::move(value);
}

} // namespace

std::string encode(const hello_message& m) {
  return packed(2, [&](packer& pk) {
    pk.pack(m.incarnation);
    pk.pack(m.sources);
  });
}

std::string encode(const resume_message& m) {
  return packed(3, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.checkpoint);
    pk.pack_array(static_cast<uint32_t>(m.parts.size()));
    for (const auto& p : m.parts) {
      pk.pack_array(2);
      pk.pack(p.participant);
      pack_bytes(pk, p.bytes);
    }
  });
}

std::string encode(const events_message& m) {
  return packed(7, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.barrier);
    pack_bytes(pk, m.batch);
    pk.pack(m.quarantined);
    pk.pack(m.last);
    pack_bytes(pk, m.partials);
    pk.pack(m.events);
  });
}

std::string encode(const barrier_message& m) {
  return packed(3, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.checkpoint);
    pk.pack(m.source);
  });
}

std::string encode(const part_message& m) {
  return packed(5, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.part.checkpoint);
    pk.pack(static_cast<uint8_t>(m.part.kind));
    pk.pack(m.part.participant);
    pack_bytes(pk, m.part.bytes);
  });
}

std::string encode(const ack_message& m) {
  return packed(3, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.source);
    pk.pack(m.sequence);
  });
}

std::string encode(const heartbeat_message& m) {
  return packed(3, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.incarnation);
    pk.pack_array(static_cast<uint32_t>(m.lags.size()));
    for (const auto& l : m.lags) {
      pk.pack_array(3);
      pk.pack(l.source);
      pk.pack(l.bytes);
      pk.pack(l.newest_event_ms);
    }
  });
}

std::string encode(const rollback_message& m) {
  return packed(2, [&](packer& pk) {
    pk.pack(m.epoch);
    pk.pack(m.reason);
  });
}

caf::expected<hello_message> decode_hello(std::string_view body) {
  fields f(body, "hello", 2);
  hello_message m;
  f.u64(0, "incarnation", m.incarnation);
  f.list(1, "sources", [&](const msgpack::object& o) {
    m.sources.emplace_back();
    return fields::item_text(o, m.sources.back());
  });
  return done(f, std::move(m));
}

caf::expected<resume_message> decode_resume(std::string_view body) {
  fields f(body, "resume", 3);
  resume_message m;
  f.u64(0, "epoch", m.epoch);
  f.u64(1, "checkpoint", m.checkpoint);
  f.list(2, "parts", [&](const msgpack::object& o) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) return false;
    m.parts.emplace_back();
    return fields::item_text(o.via.array.ptr[0], m.parts.back().participant)
           && fields::item_bytes(o.via.array.ptr[1], m.parts.back().bytes);
  });
  return done(f, std::move(m));
}

caf::expected<events_message> decode_events(std::string_view body) {
  fields f(body, "events", 7, 6);
  events_message m;
  f.u64(0, "epoch", m.epoch);
  f.u64(1, "barrier", m.barrier);
  f.bytes(2, "batch", m.batch);
  f.list(3, "quarantined", [&](const msgpack::object& o) {
    m.quarantined.emplace_back();
    return fields::item_text(o, m.quarantined.back());
  });
  f.flag(4, "last", m.last);
  f.bytes(5, "partials", m.partials);
  if (f.has(6)) f.u64(6, "events", m.events);
  return done(f, std::move(m));
}

caf::expected<barrier_message> decode_barrier(std::string_view body) {
  fields f(body, "barrier", 3);
  barrier_message m;
  f.u64(0, "epoch", m.epoch);
  f.u64(1, "checkpoint", m.checkpoint);
  f.text(2, "source", m.source);
  return done(f, std::move(m));
}

caf::expected<part_message> decode_part(std::string_view body) {
  fields f(body, "part", 5);
  part_message m;
  uint64_t kind = 0;
  std::string_view bytes;
  f.u64(0, "epoch", m.epoch);
  f.u64(1, "checkpoint", m.part.checkpoint);
  f.u64(2, "kind", kind);
  f.text(3, "participant", m.part.participant);
  f.bytes(4, "bytes", bytes);
  if (f.ok() && kind >= state_kind_count) return bad("part", "kind " + std::to_string(kind) + " is unknown");
  m.part.kind = static_cast<state_kind>(kind);
  m.part.bytes.assign(bytes);
  return done(f, std::move(m));
}

caf::expected<ack_message> decode_ack(std::string_view body) {
  fields f(body, "ack", 3);
  ack_message m;
  f.u64(0, "epoch", m.epoch);
  f.text(1, "source", m.source);
  f.u64(2, "sequence", m.sequence);
  return done(f, std::move(m));
}

caf::expected<heartbeat_message> decode_heartbeat(std::string_view body) {
  fields f(body, "heartbeat", 3, 2);
  heartbeat_message m;
  f.u64(0, "epoch", m.epoch);
  f.u64(1, "incarnation", m.incarnation);
  if (f.has(2))
    f.list(2, "lags", [&](const msgpack::object& o) {
      if (o.type != msgpack::type::ARRAY || o.via.array.size != 3) return false;
      const msgpack::object* item = o.via.array.ptr;
      source_lag l;
      if (!fields::item_text(item[0], l.source) || item[1].type != msgpack::type::POSITIVE_INTEGER) return false;
      l.bytes = item[1].via.u64;
      if (item[2].type == msgpack::type::NEGATIVE_INTEGER) l.newest_event_ms = item[2].via.i64;
      else if (item[2].type == msgpack::type::POSITIVE_INTEGER && item[2].via.u64 <= INT64_MAX)
        l.newest_event_ms = static_cast<int64_t>(item[2].via.u64);
      else return false;
      m.lags.push_back(std::move(l));
      return true;
    });
  return done(f, std::move(m));
}

caf::expected<rollback_message> decode_rollback(std::string_view body) {
  fields f(body, "rollback", 2);
  rollback_message m;
  f.u64(0, "epoch", m.epoch);
  f.text(1, "reason", m.reason);
  return done(f, std::move(m));
}

} // namespace vigil
