#include "state/state_store.hpp"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <msgpack.hpp>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "hash/xxh3.hpp"

namespace vigil {

namespace {

const char* const family_names[] = {"checkpoints", "sources", "windows", "detector", "alerts", "sinks"};

std::string id_key(uint64_t id) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>(id >> (56 - 8 * i));
  return k;
}

uint64_t key_id(std::string_view k) {
  uint64_t id = 0;
  for (int i = 0; i < 8 && i < static_cast<int>(k.size()); ++i) id = (id << 8) | static_cast<unsigned char>(k[i]);
  return id;
}

std::string part_key(uint64_t id, std::string_view participant) {
  return id_key(id) + std::string(participant);
}

std::string encode_info(const checkpoint_info& c, const std::vector<state_part>& parts) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(5);
  pk.pack(c.id);
  pk.pack(c.time_ms);
  pk.pack(c.bytes);
  pk.pack(c.parts);
  pk.pack_array(static_cast<uint32_t>(parts.size()));
  for (const auto& p : parts) {
    pk.pack_array(2);
    pk.pack(static_cast<uint8_t>(p.kind));
    pk.pack(p.participant);
  }
  return seal_state({buf.data(), buf.size()});
}

struct listed_part {
  state_kind kind;
  std::string participant;
};

bool decode_info(std::string_view sealed, checkpoint_info& c, std::vector<listed_part>* parts, std::string& error) {
  std::string payload;
  if (!open_state(sealed, payload, error)) return false;
  try {
    auto h = msgpack::unpack(payload.data(), payload.size());
    const auto& a = h.get().via.array;
    if (h.get().type != msgpack::type::ARRAY || a.size != 5) throw msgpack::type_error();
    c.id = a.ptr[0].as<uint64_t>();
    c.time_ms = a.ptr[1].as<int64_t>();
    c.bytes = a.ptr[2].as<uint64_t>();
    c.parts = a.ptr[3].as<uint32_t>();
    if (parts) {
      if (a.ptr[4].type != msgpack::type::ARRAY) throw msgpack::type_error();
      for (uint32_t i = 0; i < a.ptr[4].via.array.size; ++i) {
        const auto& p = a.ptr[4].via.array.ptr[i];
        if (p.type != msgpack::type::ARRAY || p.via.array.size != 2) throw msgpack::type_error();
        const auto kind = p.via.array.ptr[0].as<uint8_t>();
        if (kind >= state_kind_count) throw msgpack::type_error();
        parts->push_back({static_cast<state_kind>(kind), p.via.array.ptr[1].as<std::string>()});
      }
    }
    return true;
  } catch (const std::exception&) {
    error = "checkpoint record does not decode";
    return false;
  }
}

/// RocksDB's own log, into vigil's: its warnings and errors as warnings,
/// the rest at trace level. It also keeps RocksDB from writing a LOG file
/// into the state dir: on a full disk that file's failed appends were what
/// tripped RocksDB's assertions.
class spdlog_logger : public rocksdb::Logger {
public:
  spdlog_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const bool loud = level >= rocksdb::InfoLogLevel::WARN_LEVEL && level != rocksdb::InfoLogLevel::HEADER_LEVEL;
    if (!loud && !spdlog::should_log(spdlog::level::trace)) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    if (loud) spdlog::warn("rocksdb: {}", buf);
    else spdlog::trace("rocksdb: {}", buf);
  }
};

/// Who holds a state dir, for the message a second node gets: RocksDB's
/// LOCK says only that it is held.
void write_holder(const std::string& dir) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::ofstream out(dir + "/HOLDER", std::ios::trunc);
  out << "pid " << ::getpid() << " on host " << host << ", since " << when << "\n";
}

std::string read_holder(const std::string& dir) {
  std::ifstream in(dir + "/HOLDER");
  std::string line;
  if (!std::getline(in, line) || line.empty()) return "another process";
  return "another process (" + line + ")";
}

std::string in_use_message(const std::string& dir) {
  return "state dir " + dir + " is in use by " + read_holder(dir)
         + ": two nodes cannot share a state_dir. Stop that one first, or give this node a state_dir of its own";
}

} // namespace

std::string_view to_string(state_kind k) noexcept {
  switch (k) {
    case state_kind::source: return "source";
    case state_kind::window: return "window";
    case state_kind::detector: return "detector";
    case state_kind::alert: return "alert";
    case state_kind::sink: return "sink";
  }
  return "unknown";
}

std::string seal_state(std::string_view payload) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(3);
  pk.pack(state_store::format_version);
  pk.pack(xxh3(payload));
  pk.pack_bin(static_cast<uint32_t>(payload.size()));
  // The payload (window state can be 100 MB) is copied once, not grown into.
  std::string sealed;
  sealed.reserve(buf.size() + payload.size());
  sealed.append(buf.data(), buf.size());
  sealed.append(payload);
  return sealed;
}

bool open_state(std::string_view sealed, std::string& payload, std::string& error) {
  try {
    // The payload is read in place, not copied into the unpacker's zone.
    auto h = msgpack::unpack(sealed.data(), sealed.size(), [](msgpack::type::object_type, std::size_t, void*) { return true; });
    const msgpack::object& o = h.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3 || o.via.array.ptr[2].type != msgpack::type::BIN)
      throw msgpack::type_error();
    const auto version = o.via.array.ptr[0].as<uint32_t>();
    if (version != state_store::format_version) {
      error = "state format version " + std::to_string(version) + ", this vigil reads version " +
              std::to_string(state_store::format_version);
      return false;
    }
    const auto& bin = o.via.array.ptr[2].via.bin;
    payload.assign(bin.ptr, bin.size);
    if (xxh3(payload) != o.via.array.ptr[1].as<uint64_t>()) {
      error = "state value is damaged (checksum mismatch)";
      return false;
    }
    return true;
  } catch (const std::exception&) {
    error = "state value is damaged (does not decode)";
    return false;
  }
}

state_store::~state_store() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
  if (dir_lock_fd_ >= 0) ::close(dir_lock_fd_);  // releases the flock
}

std::unique_ptr<state_store> state_store::open(const std::string& dir, std::string& error) {
  // Made here, so that RocksDB does not warn that it is missing.
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create state dir " + dir + ": " + ec.message();
    return nullptr;
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.info_log = std::make_shared<spdlog_logger>();
  options.create_missing_column_families = true;
  // Checkpoints are written once a second and read at start: a small
  // memtable and few background threads are enough.
  options.write_buffer_size = 16 << 20;
  options.max_background_jobs = 2;
  // Checkpoints skip the write-ahead log and are flushed to table files
  // as they are written (see write_checkpoint); atomic flushes keep the
  // column families of one checkpoint together.
  options.atomic_flush = true;
  // Uncompressed: a restart reads the newest checkpoint back at disk
  // speed (Snappy took a second to unpack 100 MB of window state).
  options.compression = rocksdb::kNoCompression;
  // Read table files through mmap: a part of 100 MB is then decoded where
  // it lies in the page cache, not copied into fresh memory first.
  options.allow_mmap_reads = true;
  // Flushes and compactions yield to the pipeline on a busy machine.
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH, rocksdb::CpuPriority::kLow);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options));
  for (const char* name : family_names) families.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  std::unique_ptr<state_store> s(new state_store());
  s->dir_ = dir;
  s->dir_lock_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dir_lock_fd_ < 0) {
    error = "cannot open state dir " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  if (::flock(s->dir_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK
              ? in_use_message(dir)
              : "cannot lock state dir " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  rocksdb::DB* db = nullptr;
  auto status = rocksdb::DB::Open(options, dir, families, &s->handles_, &db);
  if (!status.ok()) {
    if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
      error = in_use_message(dir);
      return nullptr;
    }
    if (status.IsCorruption()) {
      error = "state dir " + dir + " is damaged on disk (" + status.ToString()
              + "): its checkpoints cannot be trusted, so vigil will not resume from them. Restore the directory "
                "from a copy, or move it away and the sink files with it (a fresh start reads the sources again "
                "from their beginning)";
      return nullptr;
    }
    error = "cannot open state dir " + dir + ": " + status.ToString();
    return nullptr;
  }
  s->db_.reset(db);
  write_holder(dir);
  auto version = s->setting("format_version");
  if (!version) {
    if (!s->put_setting("format_version", std::to_string(format_version), error)) return nullptr;
  } else if (*version != std::to_string(format_version)) {
    error = "state dir " + dir + " has format version " + *version + "; this vigil reads version " +
            std::to_string(format_version) + " (move the directory away to start fresh)";
    return nullptr;
  }
  return s;
}

rocksdb::ColumnFamilyHandle* state_store::family(state_kind k) const {
  return handles_[2 + static_cast<size_t>(k)];
}

bool state_store::write_checkpoint(const checkpoint_info& info, const std::vector<state_part>& parts,
                                   std::string& error) {
  // A full disk is met here, not inside RocksDB: Debian's build asserts
  // (aborts) on a table file write that follows a failed one, so it gets
  // no write it cannot finish. The table file holds the parts unpacked,
  // plus its index; the margin covers the manifest and a compaction.
  uint64_t bytes = 0;
  for (const auto& p : parts) bytes += p.bytes.size();
  const uint64_t needed = bytes + bytes / 4 + (8u << 20);
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) == 0) {
    const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free < needed) {
      error = "checkpoint " + std::to_string(info.id) + ": not written: " + std::to_string(free >> 20)
              + " MiB free, it needs about " + std::to_string(needed >> 20) + " MiB (No space left on device)";
      return false;
    }
  }
  rocksdb::WriteBatch batch;
  for (const auto& p : parts) batch.Put(family(p.kind), part_key(info.id, p.participant), seal_state(p.bytes));
  batch.Put(handles_[1], id_key(info.id), encode_info(info, parts));
  // No write-ahead log: a checkpoint is complete once flushed to table
  // files, and a restart after a crash replays no log (replaying the
  // last few checkpoints of 100 MB each took seconds).
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  auto status = db_->Write(write, &batch);
  if (status.ok()) {
    rocksdb::FlushOptions flush;
    flush.allow_write_stall = true;
    status = db_->Flush(flush, handles_);
  }
  if (!status.ok()) {
    error = "checkpoint " + std::to_string(info.id) + ": " + status.ToString();
    return false;
  }
  return true;
}

std::vector<checkpoint_info> state_store::checkpoints() const {
  std::vector<checkpoint_info> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[1]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    checkpoint_info c;
    std::string error;
    if (decode_info(std::string_view(it->value().data(), it->value().size()), c, nullptr, error))
      out.push_back(c);
    else
      out.push_back({key_id(std::string_view(it->key().data(), it->key().size())), 0, 0, 0});  // listed, unreadable
  }
  return out;
}

bool state_store::read_checkpoint(uint64_t id, std::vector<state_part>& parts, std::string& error) const {
  parts.clear();
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), handles_[1], id_key(id), &value).ok()) {
    error = "checkpoint " + std::to_string(id) + " is not in the store";
    return false;
  }
  checkpoint_info info;
  std::vector<listed_part> listed;
  if (!decode_info(value, info, &listed, error)) {
    error = "checkpoint " + std::to_string(id) + ": " + error;
    return false;
  }
  for (const auto& l : listed) {
    // Pinned, not copied out, and kept out of the block cache: the payload
    // is copied once, into the part.
    rocksdb::ReadOptions read;
    read.fill_cache = false;
    rocksdb::PinnableSlice sealed;
    auto status = db_->Get(read, family(l.kind), part_key(id, l.participant), &sealed);
    state_part p{id, l.kind, l.participant, {}};
    if (!status.ok() || !open_state(std::string_view(sealed.data(), sealed.size()), p.bytes, error)) {
      error = "checkpoint " + std::to_string(id) + ", " + std::string(to_string(l.kind)) + " '" + l.participant +
              "': " + (status.ok() ? error : "missing");
      return false;
    }
    parts.push_back(std::move(p));
  }
  return true;
}

void state_store::prune(size_t keep) {
  auto all = checkpoints();
  if (all.size() <= keep) return;
  const uint64_t first_kept = all[all.size() - keep].id;
  rocksdb::WriteBatch batch;
  const std::string from = id_key(0), to = id_key(first_kept);
  for (size_t f = 1; f < handles_.size(); ++f) batch.DeleteRange(handles_[f], from, to);
  db_->Write(rocksdb::WriteOptions(), &batch);
  // Each checkpoint is flushed on its own, so its table files hold
  // nothing else: drop them now rather than at some later compaction
  // (with 100 MB checkpoints, the dir grew by gigabytes meanwhile). The
  // range ends on the last pruned id's keys, inclusive: a file reaching
  // a kept checkpoint (or the tombstone's end at it) is never dropped.
  const std::string last = id_key(first_kept - 1) + std::string(1, '\xff');
  const rocksdb::Slice begin(from), end(last);
  for (size_t f = 1; f < handles_.size(); ++f) rocksdb::DeleteFilesInRange(db_.get(), handles_[f], &begin, &end, true);
}

bool state_store::drop_newer_than(uint64_t id, std::string& error) {
  if (id == UINT64_MAX) return true;
  rocksdb::WriteBatch batch;
  const std::string from = id_key(id + 1), to = id_key(UINT64_MAX);
  for (size_t f = 1; f < handles_.size(); ++f) batch.DeleteRange(handles_[f], from, to);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  auto status = db_->Write(sync, &batch);
  if (!status.ok()) error = "state dir " + dir_ + ": " + status.ToString();
  return status.ok();
}

std::optional<std::string> state_store::setting(std::string_view key) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), handles_[0], rocksdb::Slice(key.data(), key.size()), &value).ok())
    return std::nullopt;
  return value;
}

bool state_store::put_setting(std::string_view key, std::string_view value, std::string& error) {
  auto status = db_->Put(rocksdb::WriteOptions(), handles_[0], rocksdb::Slice(key.data(), key.size()),
                         rocksdb::Slice(value.data(), value.size()));
  if (!status.ok()) error = "state dir " + dir_ + ": " + status.ToString();
  return status.ok();
}

} // namespace vigil
