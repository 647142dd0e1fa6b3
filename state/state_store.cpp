#include "state/state_store.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <type_traits>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <msgpack.hpp>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "hash/xxh3.hpp"
#include "parse/timestamp.hpp"

namespace vigil {

namespace {

/// A format version setting as a number; 0 when it is not one.
uint32_t version_number(const std::string& text) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && end == text.data() + text.size() ? v : 0;
}

/// What an error about a foreign format version says this vigil reads.
std::string readable_versions() {
  return "this vigil reads versions " + std::to_string(state_store::oldest_readable_version) + " to " +
         std::to_string(state_store::format_version);
}

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

/// A part over this size is stored as values of this size at most (see
/// write_checkpoint).
constexpr size_t chunk_bytes = size_t{1} << 20;

/// Calls `chunk(bytes)` for each chunk `piece` is cut into; a `chunk`
/// that returns false stops it, and it returns false.
template <class Chunk>
bool cut_into_chunks(std::string_view piece, Chunk&& chunk) {
  for (size_t at = 0; at < piece.size(); at += chunk_bytes) {
    if constexpr (std::is_same_v<decltype(chunk(piece)), bool>) {
      if (!chunk(piece.substr(at, chunk_bytes))) return false;
    } else {
      chunk(piece.substr(at, chunk_bytes));
    }
  }
  return true;
}

/// Staged table files, before they are ingested.
std::string staging_dir(const std::string& dir) { return dir + "/ingest"; }

/// Whether the file system of `dir` has room for `bytes` more of
/// checkpoint `id` (with a margin for table indexes and the manifest);
/// else `error`, which says "No space left on device" (`is_no_space`).
/// A full disk is met here, not inside RocksDB: Debian's build asserts
/// (aborts) on a write of its own that follows a failed one, so it gets
/// none it cannot finish.
bool room_for(const std::string& dir, uint64_t id, uint64_t bytes, std::string_view what, std::string& error);

/// Calls `chunk(bytes)` for each chunk part `p` is stored in: each of its
/// pieces cut into chunks. None when it is stored as one value, its pieces
/// joined: when all of it fits in one chunk.
template <class Chunk>
void each_chunk(const state_part& p, Chunk&& chunk) {
  if (p.size() <= chunk_bytes) return;
  cut_into_chunks(p.bytes, chunk);
  for (const auto& piece : p.tail) cut_into_chunks(piece, chunk);
}

/// The chunks a part is stored in; 0: one value under its part key.
uint32_t chunks_of(const state_part& p) {
  uint32_t n = 0;
  each_chunk(p, [&](std::string_view) { ++n; });
  return n;
}

/// Chunk `i` of a part stored in chunks: its part key, a NUL (sorting it
/// before any longer participant name), the index big-endian.
std::string chunk_key(uint64_t id, std::string_view participant, uint32_t i) {
  std::string k = part_key(id, participant);
  k.push_back('\0');
  for (int b = 3; b >= 0; --b) k.push_back(static_cast<char>(i >> (8 * b)));
  return k;
}

struct listed_part {
  state_kind kind;
  std::string participant;
  uint32_t chunks = 0;  // 0: one value (and every part of a version-3 or -4 record)
  uint64_t bytes = 0;
};

std::string encode_info(const checkpoint_info& c, const std::vector<listed_part>& parts) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(5);
  pk.pack(c.id);
  pk.pack(c.time_ms);
  pk.pack(c.bytes);
  pk.pack(c.parts);
  pk.pack_array(static_cast<uint32_t>(parts.size()));
  for (const auto& p : parts) {
    pk.pack_array(4);
    pk.pack(static_cast<uint8_t>(p.kind));
    pk.pack(p.participant);
    pk.pack(p.chunks);
    pk.pack(p.bytes);
  }
  return seal_state({buf.data(), buf.size()});
}

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
        if (p.type != msgpack::type::ARRAY || (p.via.array.size != 2 && p.via.array.size != 4))
          throw msgpack::type_error();
        const auto kind = p.via.array.ptr[0].as<uint8_t>();
        if (kind >= state_kind_count) throw msgpack::type_error();
        listed_part l{static_cast<state_kind>(kind), p.via.array.ptr[1].as<std::string>()};
        if (p.via.array.size == 4) {
          l.chunks = p.via.array.ptr[2].as<uint32_t>();
          l.bytes = p.via.array.ptr[3].as<uint64_t>();
        }
        parts->push_back(std::move(l));
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

/// Bytes free to this process on the file system of `dir` (unknown: as
/// if plenty, so a statvfs that fails never stops a checkpoint).
uint64_t free_bytes(const std::string& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

bool room_for(const std::string& dir, uint64_t id, uint64_t bytes, std::string_view what, std::string& error) {
  const uint64_t needed = bytes + bytes / 16 + (1u << 20);
  const uint64_t free = free_bytes(dir);
  if (free >= needed) return true;
  error = "checkpoint " + std::to_string(id) + ": not written: " + std::to_string(free >> 20) + " MiB free, "
          + std::string(what) + " needs about " + std::to_string(needed >> 20) + " MiB (No space left on device)";
  return false;
}

/// Free space above which the store does its housekeeping writes (a
/// flush at open and at close); below it, it writes only checkpoints.
constexpr uint64_t roomy_bytes = 64u << 20;

int table_files_open_at_most() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 256;
  return static_cast<int>(std::max<rlim_t>(16, std::min<rlim_t>(256, limit.rlim_cur / 4)));
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

void seal_state_into(std::string_view payload, std::string& sealed) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(3);
  pk.pack(state_store::format_version);
  pk.pack(xxh3(payload));
  pk.pack_bin(static_cast<uint32_t>(payload.size()));
  sealed.clear();
  sealed.reserve(buf.size() + payload.size());
  sealed.append(buf.data(), buf.size());
  sealed.append(payload);
}

std::string seal_state(std::string_view payload) {
  std::string sealed;
  seal_state_into(payload, sealed);
  return sealed;
}

bool open_state(std::string_view sealed, std::string& payload, std::string& error) {
  payload.clear();
  return append_state(sealed, payload, error);
}

bool append_state(std::string_view sealed, std::string& payload, std::string& error) {
  try {
    // The payload is read in place, not copied into the unpacker's zone.
    auto h = msgpack::unpack(sealed.data(), sealed.size(), [](msgpack::type::object_type, std::size_t, void*) { return true; });
    const msgpack::object& o = h.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3 || o.via.array.ptr[2].type != msgpack::type::BIN)
      throw msgpack::type_error();
    const auto version = o.via.array.ptr[0].as<uint32_t>();
    if (!state_store::readable(version)) {
      error = "state format version " + std::to_string(version) + ", " + readable_versions();
      return false;
    }
    const auto& bin = o.via.array.ptr[2].via.bin;
    if (xxh3(std::string_view(bin.ptr, bin.size)) != o.via.array.ptr[1].as<uint64_t>()) {
      error = "state value is damaged (checksum mismatch)";
      return false;
    }
    payload.append(bin.ptr, bin.size);
    return true;
  } catch (const std::exception&) {
    error = "state value is damaged (does not decode)";
    return false;
  }
}

state_store::~state_store() {
  if (db_) {
    // Checkpoints bypass the memtables, so no flush would ever retire a
    // log file and one would pile up a start: with room, the time of the
    // stop is written and flushed, and the logs before it go.
    if (!read_only_ && free_bytes(dir_) > roomy_bytes) {
      std::string ignored;
      if (put_setting("closed_at", std::to_string(wall_clock_ms()), ignored))
        db_->Flush(rocksdb::FlushOptions(), handles_);
    }
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
  if (dir_lock_fd_ >= 0) ::close(dir_lock_fd_);  // releases the flock
}

std::unique_ptr<state_store> state_store::open(const std::string& dir, std::string& error, bool read_only) {
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
  // Checkpoints are table files ingested whole (see write_checkpoint);
  // atomic flushes keep anything flushed of the column families together.
  options.atomic_flush = true;
  // Uncompressed: a restart reads the newest checkpoint back at disk
  // speed (Snappy took a second to unpack 100 MB of window state).
  options.compression = rocksdb::kNoCompression;
  // Read table files through mmap: a part of 100 MB is then decoded where
  // it lies in the page cache, not copied into fresh memory first.
  options.allow_mmap_reads = true;
  // Each checkpoint stays in table files of its own, so damage to one
  // file costs one checkpoint and a restart falls back to an older one:
  // ingested files of disjoint key ranges (a read of one checkpoint never
  // touches another's files), no compaction merging them (prune drops
  // whole files instead), tables opened when read rather than all at open
  // (a damaged footer or a missing file fails that checkpoint's read, not
  // the open), and no check of every file at open (paranoid_checks):
  // every read still verifies its block checksums.
  // Table files open at once: a quarter of the descriptor limit at most
  // (the file sources take another quarter), so a low `ulimit -n` does not
  // make checkpoints fail with EMFILE.
  options.max_open_files = table_files_open_at_most();
  options.paranoid_checks = false;
  // On a (nearly) full disk, what the log holds (settings, prunes) stays
  // in memory at open instead of being flushed to a table file, so the
  // open needs next to no room. With room it is flushed: the logs of
  // earlier runs then go instead of piling up one a start.
  options.avoid_flush_during_recovery = free_bytes(dir) < roomy_bytes;
  // Ingested files carry no unique id in the manifest (RocksDB 7.8), and
  // each open would warn of it; their blocks' checksums are still checked.
  options.verify_sst_unique_id_in_manifest = false;
  // Flushes and compactions yield to the pipeline on a busy machine.
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH, rocksdb::CpuPriority::kLow);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  // The settings (default family) compact as usual; the checkpoints'
  // families never do (see above).
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options));
  rocksdb::ColumnFamilyOptions checkpoint_family(options);
  checkpoint_family.disable_auto_compactions = true;
  for (const char* name : family_names) families.emplace_back(name, checkpoint_family);
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
  auto status = read_only ? rocksdb::DB::OpenForReadOnly(options, dir, families, &s->handles_, &db)
                          : rocksdb::DB::Open(options, dir, families, &s->handles_, &db);
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
  s->options_ = std::make_unique<rocksdb::Options>(options);
  s->read_only_ = read_only;
  auto version = s->setting("format_version");
  const bool known = !version || readable(version_number(*version));
  if (read_only) {
    if (!known) {
      error = "state dir " + dir + " has format version " + *version + "; " + readable_versions();
      return nullptr;
    }
    return s;
  }
  write_holder(dir);
  // Table files staged for a checkpoint a killed process never finished
  // (a window part streamed there can be 100 MB): nobody else holds the
  // dir, so none is in use.
  std::error_code staged_ec;
  std::filesystem::remove_all(staging_dir(dir), staged_ec);
  if (!known) {
    error = "state dir " + dir + " has format version " + *version + "; " + readable_versions() +
            " (move the directory away to start fresh)";
    return nullptr;
  }
  if (!version || *version != std::to_string(format_version)) {
    if (!s->put_setting("format_version", std::to_string(format_version), error)) return nullptr;
  }
  return s;
}

rocksdb::ColumnFamilyHandle* state_store::family(state_kind k) const {
  return handles_[2 + static_cast<size_t>(k)];
}

bool is_no_space(std::string_view error) noexcept { return error.find("No space left") != std::string_view::npos; }

bool state_store::write_checkpoint(const checkpoint_info& info, const std::vector<state_part>& parts,
                                   std::string& error, std::vector<std::unique_ptr<part_stream>> streamed) {
  // The table files hold the parts unpacked (no compaction ever rewrites
  // them); streamed parts were checked as they came.
  uint64_t bytes = 0;
  for (const auto& p : parts) bytes += p.size();
  if (!room_for(dir_, info.id, bytes, "it", error)) return false;
  // One table file per column family, keys in order, then all ingested
  // at once: RocksDB records them in its manifest in one step. A part is
  // sealed as it is put, a chunk at a time: a part of 100 MB (a window's
  // million groups) is never copied whole, and no table block grows past
  // a chunk.
  struct row {
    std::string key;
    std::string_view payload;  // in the part, or in `joined`
    std::string joined;        // a small part's pieces, joined
    bool sealed = false;       // the record, sealed already
    std::string_view value() const { return joined.empty() ? payload : std::string_view(joined); }
  };
  std::map<rocksdb::ColumnFamilyHandle*, std::vector<row>> rows;
  for (const auto& p : parts) {
    auto& family_rows = rows[family(p.kind)];
    uint32_t chunks = 0;
    each_chunk(p, [&](std::string_view chunk) {
      family_rows.push_back({chunk_key(info.id, p.participant, chunks++), chunk, {}});
    });
    if (chunks == 0) {
      row one{part_key(info.id, p.participant), p.bytes, {}};
      if (!p.tail.empty()) {
        one.joined = p.bytes;
        for (const auto& piece : p.tail) one.joined += piece;
      }
      family_rows.push_back(std::move(one));
    }
  }
  std::vector<listed_part> listed;
  for (const auto& p : parts) listed.push_back({p.kind, p.participant, chunks_of(p), p.size()});
  // A streamed part is in its table file already, ingested with its family's.
  std::map<rocksdb::ColumnFamilyHandle*, std::vector<std::string>> streamed_files;
  for (auto& sp : streamed) {
    rocksdb::Status status;
    if (sp->chunks_ == 0) {  // nothing appended: stored as one empty value, as a small part is
      seal_state_into("", sp->sealed_);
      status = sp->writer_->Put(part_key(info.id, sp->participant_), sp->sealed_);
    }
    if (status.ok()) status = sp->writer_->Finish();
    if (!status.ok()) {
      error = "checkpoint " + std::to_string(info.id) + ": part " + sp->participant_ + ": " + status.ToString();
      return false;
    }
    listed.push_back({sp->kind_, sp->participant_, sp->chunks_, sp->bytes_});
    streamed_files[family(sp->kind_)].push_back(sp->file_);
    rows[family(sp->kind_)];  // its family gets an ingestion, other rows or not
  }
  const std::string record = encode_info(info, listed);
  rows[handles_[1]].push_back({id_key(info.id), record, {}, true});
  const std::string staging = staging_dir(dir_);
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  std::vector<std::string> written;
  auto clean_up = [&] {
    for (const auto& f : written) std::filesystem::remove(f, ec);
  };
  std::vector<rocksdb::IngestExternalFileArg> args;
  std::string sealed;
  for (auto& [cf, family_rows] : rows) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cf;
    arg.external_files = streamed_files[cf];
    if (!family_rows.empty()) {
      std::sort(family_rows.begin(), family_rows.end(), [](const row& a, const row& b) { return a.key < b.key; });
      const std::string file = staging + "/" + std::to_string(info.id) + "-" + cf->GetName() + ".sst";
      rocksdb::SstFileWriter writer(rocksdb::EnvOptions(*options_), *options_, cf);
      auto status = writer.Open(file);
      if (status.ok()) written.push_back(file);
      for (auto it = family_rows.begin(); status.ok() && it != family_rows.end(); ++it) {
        if (!it->sealed) seal_state_into(it->value(), sealed);
        const std::string_view value = it->sealed ? it->value() : std::string_view(sealed);
        status = writer.Put(it->key, rocksdb::Slice(value.data(), value.size()));
      }
      if (status.ok()) status = writer.Finish();
      if (!status.ok()) {
        clean_up();
        error = "checkpoint " + std::to_string(info.id) + ": " + status.ToString();
        return false;
      }
      arg.external_files.push_back(file);
    }
    arg.options.move_files = true;  // linked, not copied
    arg.options.snapshot_consistency = false;
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  auto status = db_->IngestExternalFiles(args);
  clean_up();  // the links RocksDB made stay; the staged names go
  if (!status.ok()) {
    error = "checkpoint " + std::to_string(info.id) + ": " + status.ToString();
    return false;
  }
  return true;
}

part_stream::~part_stream() {
  writer_.reset();
  std::error_code ec;
  std::filesystem::remove(file_, ec);  // after ingestion only the staged name: RocksDB has its own link
}

std::unique_ptr<part_stream> state_store::begin_part(uint64_t id, state_kind kind, const std::string& participant,
                                                     std::string& error) {
  const std::string staging = staging_dir(dir_);
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  std::unique_ptr<part_stream> p(new part_stream);
  p->checkpoint_ = id;
  p->kind_ = kind;
  p->participant_ = participant;
  std::string name = participant;
  for (char& c : name)
    if (c == '/' || c == '\0') c = '_';
  p->file_ = staging + "/" + std::to_string(id) + "-" + std::string(to_string(kind)) + "-stream-" + name + ".sst";
  p->writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(*options_), *options_, family(kind));
  const auto status = p->writer_->Open(p->file_);
  if (!status.ok()) {
    error = "checkpoint " + std::to_string(id) + ": part " + participant + ": " + status.ToString();
    return nullptr;
  }
  return p;
}

bool state_store::append_part(part_stream& p, std::string_view piece, std::string& error) {
  // Checked a piece at a time, as write_checkpoint checks a whole checkpoint.
  if (!room_for(dir_, p.checkpoint_, piece.size(), "its part " + p.participant_ + " (more of it)", error)) return false;
  const bool ok = cut_into_chunks(piece, [&](std::string_view chunk) {
    seal_state_into(chunk, p.sealed_);
    const auto status = p.writer_->Put(chunk_key(p.checkpoint_, p.participant_, p.chunks_), p.sealed_);
    if (!status.ok()) {
      error = "checkpoint " + std::to_string(p.checkpoint_) + ": part " + p.participant_ + ": " + status.ToString();
      return false;
    }
    ++p.chunks_;
    return true;
  });
  if (ok) p.bytes_ += piece.size();
  return ok;
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
  // A record file that cannot be read is passed over by the iterator
  // (or ends it): say which checkpoints that hides.
  std::set<uint64_t> listed;
  for (const auto& c : out) listed.insert(c.id);
  std::vector<rocksdb::LiveFileMetaData> files;
  db_->GetLiveFilesMetaData(&files);
  for (const auto& f : files)
    if (f.column_family_name == handles_[1]->GetName() && !listed.count(key_id(f.largestkey)))
      spdlog::error("state dir {}: the record of checkpoint {} cannot be read ({}{}): it is passed over", dir_,
                    key_id(f.largestkey), f.relative_filename.empty() ? f.name : f.relative_filename,
                    it->status().ok() ? "" : ", " + it->status().ToString());
  return out;
}

bool state_store::read_checkpoint(uint64_t id, std::vector<state_part>& parts, std::string& error) const {
  parts.clear();
  std::string value;
  if (auto status = db_->Get(rocksdb::ReadOptions(), handles_[1], id_key(id), &value); !status.ok()) {
    error = "checkpoint " + std::to_string(id)
            + (status.IsNotFound() ? " is not in the store" : ": its record is damaged on disk (" + status.ToString() + ")");
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
    // is copied once, into the part (chunk after chunk, into room made for
    // all of them).
    rocksdb::ReadOptions read;
    read.fill_cache = false;
    state_part p{id, l.kind, l.participant, {}};
    if (l.chunks > 0) p.bytes.reserve(l.bytes);
    for (uint32_t i = 0; i < std::max<uint32_t>(l.chunks, 1); ++i) {
      rocksdb::PinnableSlice sealed;
      auto status = db_->Get(read, family(l.kind), l.chunks > 0 ? chunk_key(id, l.participant, i) : part_key(id, l.participant),
                             &sealed);
      if (!status.ok() || !append_state(std::string_view(sealed.data(), sealed.size()), p.bytes, error)) {
        error = "checkpoint " + std::to_string(id) + ", " + std::string(to_string(l.kind)) + " '" + l.participant +
                "'" + (l.chunks > 0 ? ", chunk " + std::to_string(i + 1) + " of " + std::to_string(l.chunks) : "") +
                ": " + (status.ok()           ? error
                        : status.IsNotFound() ? std::string("missing")
                                              : "damaged on disk (" + status.ToString() + ")");
        return false;
      }
    }
    if (l.chunks > 0 && p.bytes.size() != l.bytes) {
      error = "checkpoint " + std::to_string(id) + ", " + std::string(to_string(l.kind)) + " '" + l.participant +
              "': " + std::to_string(p.bytes.size()) + " bytes in its chunks, its record says " + std::to_string(l.bytes);
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
  // Each checkpoint is flushed on its own, so its table files hold
  // nothing else: dropping them deletes it (with 100 MB checkpoints, a
  // compaction's pace let the dir grow by gigabytes). No tombstone is
  // written while that suffices: one would sit in the next checkpoint's
  // files and stretch their key range over every older checkpoint, so
  // damage to them would fail the reads of those too. The range ends on
  // the last pruned id's keys, inclusive: a file reaching a kept
  // checkpoint is never dropped.
  //
  // Without compactions the files stay in level 0, where RocksDB deletes
  // a file only if it is the oldest of its column family: oldest first,
  // then, which pruned checkpoints are. (DeleteFile is deprecated
  // upstream; RocksDB 7.8, Debian's, has it and DeleteFilesInRange skips
  // level 0.) A store written with compactions has its files in level 1.
  const std::string from = id_key(0), to = id_key(first_kept);
  std::vector<rocksdb::LiveFileMetaData> files;
  db_->GetLiveFilesMetaData(&files);
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.file_number < b.file_number; });
  for (const auto& f : files)
    if (f.column_family_name != rocksdb::kDefaultColumnFamilyName && rocksdb::Slice(f.largestkey).compare(to) < 0)
      db_->DeleteFile(f.relative_filename.empty() ? f.name : f.relative_filename);
  const std::string last = id_key(first_kept - 1) + std::string(1, '\xff');
  const rocksdb::Slice begin(from), end(last);
  for (size_t f = 1; f < handles_.size(); ++f) rocksdb::DeleteFilesInRange(db_.get(), handles_[f], &begin, &end, true);
  // What shared a file with a kept checkpoint (a flush that failed and
  // was carried by the next) is deleted key by key.
  const auto left = checkpoints();
  if (left.empty() || left.front().id >= first_kept) return;
  rocksdb::WriteBatch batch;
  for (size_t f = 1; f < handles_.size(); ++f) batch.DeleteRange(handles_[f], from, to);
  db_->Write(rocksdb::WriteOptions(), &batch);
}

bool state_store::discard_newer_than(uint64_t id, std::string& error) {
  if (id == UINT64_MAX) return true;
  const std::string from = id_key(id + 1), to = id_key(UINT64_MAX);
  const rocksdb::Slice begin(from), end(to);
  for (size_t f = 1; f < handles_.size(); ++f) {
    auto status = rocksdb::DeleteFilesInRange(db_.get(), handles_[f], &begin, &end, true);
    if (!status.ok()) {
      error = "state dir " + dir_ + ": " + status.ToString();
      return false;
    }
  }
  // Whatever did not sit in files of its own goes key by key.
  const auto left = checkpoints();
  return left.empty() || left.back().id <= id || drop_newer_than(id, error);
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
