#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "db/table_spec.hpp"

namespace vigil {

/// Where a sink stands in its database: the rows of its stream the
/// database holds (written or rejected), committed with those rows in one
/// transaction, and the last checkpoint barrier the sink had passed then.
/// Kept in `vigil_sink_progress`, one row per (node, sink, table).
struct db_progress {
  int64_t rows = 0;
  uint64_t checkpoint = 0;
};

/// A row the database refused (a constraint, a value of the wrong type):
/// kept in `vigil_sink_rejects` in the transaction of the batch's good rows.
struct db_reject {
  int64_t position = 0;  ///< in the sink's stream (0-based)
  std::string row;       ///< the row as COPY text
  std::string error;     ///< the database's message
};

/// The outcome of one `db_writer::write`.
struct db_write_result {
  bool committed = false;        ///< false: nothing was written; retry after `error`
  std::string error;             ///< why not (connection lost, database down, ...)
  std::vector<db_reject> rejects;  ///< committed: the rows left out, in order
};

/// Who a writer is, for the progress table.
struct db_target {
  std::string node;   ///< [node] name
  std::string sink;   ///< [[sink]] name
  bool create_table = true;
};

/// One database connection of a sink. Writers are blocking; the sink
/// actor runs on a thread of its own.
class db_writer {
public:
  virtual ~db_writer() = default;
  /// Connects if not connected, and makes sure the table (with every
  /// column of the spec), the progress table and the rejects table exist.
  /// False with `error` (then retried).
  virtual bool connect(std::string& error) = 0;
  /// The sink's progress (rows 0 when it has none). False with `error`.
  virtual bool read_progress(db_progress& out, std::string& error) = 0;
  /// Writes `rows`, positions `first` onward, and the progress `through`
  /// (the stream's position after them) at `checkpoint`, in one
  /// transaction. Rows the database refuses are kept out (the batch is
  /// retried row by row) and reported.
  virtual db_write_result write(const std::vector<std::string>& rows, int64_t first, int64_t through,
                                uint64_t checkpoint) = 0;
  /// The rows refused at positions [from, to), in order. False with `error`.
  virtual bool read_rejects(int64_t from, int64_t to, std::vector<db_reject>& out, std::string& error) = 0;
  /// Drops the connection (the next `connect` makes a new one).
  virtual void disconnect() = 0;
  /// For logs and errors: the database and table, never a password.
  virtual std::string describe() const = 0;
};

/// What a database sink counts, for `/metrics` and `/readyz`.
struct db_sink_stats {
  std::atomic<uint64_t> rows_written{0};
  std::atomic<uint64_t> rows_rejected{0};
  std::atomic<uint64_t> rows_skipped{0};  ///< replayed rows the database held already
  std::atomic<uint64_t> transactions{0};
  std::atomic<uint64_t> failed_attempts{0};  ///< each retried
  std::atomic<uint64_t> pending{0};          ///< rows buffered, not yet committed
  /// When the write being retried first failed (wall clock ms; 0: none).
  std::atomic<int64_t> failing_since_ms{0};
};

} // namespace vigil
