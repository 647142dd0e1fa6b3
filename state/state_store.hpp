#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/checkpoint.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class SstFileWriter;
struct Options;
} // namespace rocksdb

namespace vigil {

/// A complete checkpoint, as listed.
struct checkpoint_info {
  uint64_t id = 0;
  int64_t time_ms = 0;   ///< wall clock when it completed
  uint64_t bytes = 0;    ///< state bytes in all its parts
  uint32_t parts = 0;
};

/// Whether an error of `state_store::open` or `write_checkpoint` is a full
/// disk (ENOSPC, from RocksDB or from the store's own check of the free
/// space): something a node waits out rather than stops on.
bool is_no_space(std::string_view error) noexcept;

/// One RocksDB per node under `node.state_dir`. Column families:
/// `checkpoints` (one record per complete checkpoint), `sources`,
/// `windows`, `detector`, `alerts`, `sinks` (the parts, keyed by
/// checkpoint id then participant), and `default` (the store's format
/// version and the config it was made with). A checkpoint's parts and its
/// record are written as table files of their own and ingested in one
/// step, so a checkpoint is complete or absent, even if the process dies
/// while writing it, and damage to one checkpoint's files leaves the
/// others readable.
/// A checkpoint part written as it is made (`state_store::begin_part`): each
/// piece appended is cut into sealed chunks that go into a table file of
/// its own at once, so a window's 100 MB of state is never held whole in
/// memory; `write_checkpoint` ingests the file with the checkpoint's other
/// parts. One not ingested removes its file when destroyed.
class part_stream {
public:
  ~part_stream();
  part_stream(const part_stream&) = delete;
  part_stream& operator=(const part_stream&) = delete;

  uint64_t checkpoint() const noexcept { return checkpoint_; }
  state_kind kind() const noexcept { return kind_; }
  const std::string& participant() const noexcept { return participant_; }
  uint64_t bytes() const noexcept { return bytes_; }
  uint32_t chunks() const noexcept { return chunks_; }

private:
  friend class state_store;
  part_stream() = default;

  uint64_t checkpoint_ = 0;
  state_kind kind_ = state_kind::window;
  std::string participant_;
  std::string file_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::string sealed_;  // a chunk's sealed form, its room reused
  uint64_t bytes_ = 0;
  uint32_t chunks_ = 0;
};

class state_store {
public:
  /// Format of the records and envelopes below; a store of another version
  /// is refused. 2: window state as one record per group, so it can be
  /// written in slices. 3: windows keep each source's highest event time.
  /// 4: distinct counters save their registers sparse while few are set.
  /// 5: a part over a MiB is stored in chunks of a MiB, each sealed, which
  /// the checkpoint's record counts. 6: a window's state holds the hash
  /// seed of its group tables.
  static constexpr uint32_t format_version = 6;
  /// Versions 3 to 5 are read too (their registers are all in the dense
  /// form or sparse, which version 5 reads; their parts are one value
  /// each; their windows have no seed, and take a fresh one); an older
  /// store opened for writing is marked 6, so an older vigil refuses it
  /// from then on instead of misreading it.
  static constexpr uint32_t oldest_readable_version = 3;
  static bool readable(uint32_t version) noexcept {
    return version >= oldest_readable_version && version <= format_version;
  }

  /// Opens (creating if needed) the store in `dir`. Null with `error` when
  /// it cannot be opened, is held by another store (in this or another
  /// process), or has an unknown format version.
  /// `read_only`: nothing is written, not even at open (`vigil state
  /// inspect`, which must work on a full disk); the store is not created.
  static std::unique_ptr<state_store> open(const std::string& dir, std::string& error, bool read_only = false);
  ~state_store();
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;

  /// Writes a complete checkpoint atomically. False with `error` on I/O failure.
  /// `streamed`: parts of it written as they were made (`begin_part`),
  /// ingested with the others (and gone either way).
  bool write_checkpoint(const checkpoint_info& info, const std::vector<state_part>& parts, std::string& error,
                        std::vector<std::unique_ptr<part_stream>> streamed = {});

  /// Begins part `participant` of checkpoint `id`, written as it is made.
  /// Null with `error` when its table file cannot be made.
  std::unique_ptr<part_stream> begin_part(uint64_t id, state_kind kind, const std::string& participant,
                                          std::string& error);
  /// Appends `piece` to a part begun with `begin_part`. False with `error`
  /// on I/O failure or when the disk has no room for it (the error then
  /// says "No space left on device"); the part is then unusable.
  bool append_part(part_stream& part, std::string_view piece, std::string& error);

  /// Complete checkpoints, oldest first.
  std::vector<checkpoint_info> checkpoints() const;

  /// The parts of checkpoint `id`. False with `error` when the record or a
  /// part is missing or does not decode (a damaged checkpoint).
  bool read_checkpoint(uint64_t id, std::vector<state_part>& parts, std::string& error) const;

  /// Deletes all but the newest `keep` complete checkpoints.
  void prune(size_t keep);

  /// Deletes the table files of every checkpoint newer than `id`, the one
  /// a restart resumes from: a damaged newer one must not stay in the way
  /// of the next checkpoint of its id. False with `error` on I/O failure.
  bool discard_newer_than(uint64_t id, std::string& error);

  /// Deletes every checkpoint newer than `id`: an aggregator that is not
  /// the fleet's leader may have stored one the fleet never completed.
  /// False with `error` on I/O failure.
  bool drop_newer_than(uint64_t id, std::string& error);

  /// Small named values in the default column family (the config signature).
  std::optional<std::string> setting(std::string_view key) const;
  bool put_setting(std::string_view key, std::string_view value, std::string& error);

  const std::string& dir() const noexcept { return dir_; }

private:
  state_store() = default;
  rocksdb::ColumnFamilyHandle* family(state_kind k) const;

  std::string dir_;
  // flock(2) of the directory itself, held while the store is open: RocksDB's
  // LOCK file can be deleted under a running node, the directory cannot, so
  // a second node is refused even then.
  int dir_lock_fd_ = -1;
  bool read_only_ = false;
  std::unique_ptr<rocksdb::Options> options_;  // the table files written for ingestion use them too
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, checkpoints, then one per kind
};

/// Wraps a codec's payload with the state format version and a checksum,
/// and checks both when unwrapping: a damaged or foreign value is refused
/// with a message, never decoded into nonsense.
std::string seal_state(std::string_view payload);
void seal_state_into(std::string_view payload, std::string& sealed);  ///< reuses `sealed`'s room
bool open_state(std::string_view sealed, std::string& payload, std::string& error);
/// `open_state` that appends the payload to `payload` (a chunk of a part).
bool append_state(std::string_view sealed, std::string& payload, std::string& error);

} // namespace vigil
