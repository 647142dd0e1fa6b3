#include "db/sqlite_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>

#include <sqlite3.h>

#include "db/row_text.hpp"

namespace vigil {

namespace {

class sqlite_writer final : public db_writer {
public:
  sqlite_writer(std::string path, table_spec spec, db_target target)
    : path_(std::move(path)), spec_(std::move(spec)), target_(std::move(target)) {}
  ~sqlite_writer() override { disconnect(); }

  bool connect(std::string& error) override {
    if (db_) return true;
    std::error_code ec;
    const auto dir = std::filesystem::path(path_).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      error = db_ ? sqlite3_errmsg(db_) : "out of memory";
      disconnect();
      return false;
    }
    sqlite3_busy_timeout(db_, 5000);
    if (!exec("PRAGMA journal_mode=WAL", error) || !exec("PRAGMA synchronous=FULL", error)
        || !exec_all(sink_tables_sql(false), error) || !ensure_table(error) || !prepare(error)) {
      disconnect();
      return false;
    }
    return true;
  }

  bool read_progress(db_progress& out, std::string& error) override {
    if (!connect(error)) return false;
    out = {};
    sqlite3_reset(progress_read_);
    bind_target(progress_read_);
    const int rc = sqlite3_step(progress_read_);
    if (rc == SQLITE_ROW) {
      out.rows = sqlite3_column_int64(progress_read_, 0);
      out.checkpoint = static_cast<uint64_t>(sqlite3_column_int64(progress_read_, 1));
    } else if (rc != SQLITE_DONE) {
      error = sqlite3_errmsg(db_);
      return false;
    }
    sqlite3_reset(progress_read_);
    return true;
  }

  db_write_result write(const std::vector<std::string>& rows, int64_t first, int64_t through,
                        uint64_t checkpoint) override {
    db_write_result r;
    if (!connect(r.error)) return r;
    if (!exec("BEGIN IMMEDIATE", r.error)) return r;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string why;
      const int rc = insert(rows[i], why);
      if (rc == SQLITE_DONE) continue;
      // A refused row: its statement is undone, the transaction goes on.
      const int primary = rc & 0xff;
      if (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_TOOBIG
          || primary == SQLITE_RANGE) {
        r.rejects.push_back({first + static_cast<int64_t>(i), rows[i], why});
        continue;
      }
      r.error = why;
      rollback();
      return r;
    }
    for (const auto& x : r.rejects)
      if (!record_reject(x, r.error)) {
        rollback();
        r.rejects.clear();
        return r;
      }
    if (!write_progress(through, checkpoint, r.error) || !exec("COMMIT", r.error)) {
      rollback();
      r.rejects.clear();
      return r;
    }
    r.committed = true;
    return r;
  }

  bool read_rejects(int64_t from, int64_t to, std::vector<db_reject>& out, std::string& error) override {
    if (!connect(error)) return false;
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT row_position, row_text, error FROM vigil_sink_rejects WHERE node = ?1 AND "
                                "sink = ?2 AND table_name = ?3 AND row_position >= ?4 AND row_position < ?5 ORDER BY 1",
                           -1, &q, nullptr) != SQLITE_OK) {
      error = sqlite3_errmsg(db_);
      return false;
    }
    bind_target(q);
    sqlite3_bind_int64(q, 4, from);
    sqlite3_bind_int64(q, 5, to);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
      out.push_back({sqlite3_column_int64(q, 0), reinterpret_cast<const char*>(sqlite3_column_text(q, 1)),
                     reinterpret_cast<const char*>(sqlite3_column_text(q, 2))});
    if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE;
  }

  void disconnect() override {
    for (sqlite3_stmt** s : {&insert_, &progress_read_, &progress_write_, &reject_})
      if (*s) {
        sqlite3_finalize(*s);
        *s = nullptr;
      }
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
  }

  std::string describe() const override { return "sqlite " + path_ + " table " + spec_.table; }

private:
  bool exec(const std::string& sql, std::string& error) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return true;
    error = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return false;
  }

  bool exec_all(const std::vector<std::string>& statements, std::string& error) {
    for (const auto& sql : statements)
      if (!exec(sql, error)) return false;
    return true;
  }

  void rollback() {
    if (db_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  /// Creates the table, or adds the columns the spec has and it lacks.
  bool ensure_table(std::string& error) {
    std::vector<std::string> have, changes;
    sqlite3_stmt* info = nullptr;
    if (sqlite3_prepare_v2(db_, ("PRAGMA table_info(" + quote_identifier(spec_.table) + ")").c_str(), -1, &info,
                           nullptr) != SQLITE_OK) {
      error = sqlite3_errmsg(db_);
      return false;
    }
    while (sqlite3_step(info) == SQLITE_ROW)
      have.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info, 1)));
    sqlite3_finalize(info);
    return table_changes(spec_, have, target_.create_table, false, changes, error) && exec_all(changes, error);
  }

  bool prepare(std::string& error) {
    std::string marks;
    for (size_t i = 0; i < spec_.columns.size(); ++i) marks += i ? ", ?" : "?";
    const std::string sql = upsert_sql(spec_, "VALUES (" + marks + ")");
    auto make = [&](const std::string& text, sqlite3_stmt** out) {
      if (sqlite3_prepare_v3(db_, text.c_str(), -1, SQLITE_PREPARE_PERSISTENT, out, nullptr) == SQLITE_OK) return true;
      error = sqlite3_errmsg(db_);
      return false;
    };
    return make(sql, &insert_)
           && make("SELECT rows_written, checkpoint_id FROM vigil_sink_progress WHERE node = ?1 AND sink = ?2 AND "
                   "table_name = ?3", &progress_read_)
           && make("INSERT INTO vigil_sink_progress VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ')) "
                   "ON CONFLICT (node, sink, table_name) DO UPDATE SET rows_written = excluded.rows_written, "
                   "checkpoint_id = excluded.checkpoint_id, updated_at = excluded.updated_at", &progress_write_)
           && make("INSERT OR REPLACE INTO vigil_sink_rejects VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                   "strftime('%Y-%m-%dT%H:%M:%fZ'))", &reject_);
  }

  void bind_target(sqlite3_stmt* s) {
    sqlite3_bind_text(s, 1, target_.node.data(), static_cast<int>(target_.node.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, target_.sink.data(), static_cast<int>(target_.sink.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 3, spec_.table.data(), static_cast<int>(spec_.table.size()), SQLITE_STATIC);
  }

  /// Binds one row by its columns' types (numbers as numbers, booleans as
  /// 0/1) and steps it: SQLITE_DONE, or the error code with `why`.
  int insert(const std::string& line, std::string& why) {
    split_row_text(line, fields_);
    sqlite3_reset(insert_);
    for (size_t i = 0; i < spec_.columns.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      if (i >= fields_.values.size() || fields_.null[i]) {
        sqlite3_bind_null(insert_, at);
        continue;
      }
      const std::string_view v = fields_.values[i];
      const char* end = v.data() + v.size();
      switch (spec_.columns[i].type) {
        case column_type::integer: {
          int64_t n = 0;
          if (auto r = std::from_chars(v.data(), end, n); r.ec == std::errc() && r.ptr == end) {
            sqlite3_bind_int64(insert_, at, n);
            continue;
          }
          break;
        }
        case column_type::real: {
          double d = 0;
          if (auto r = std::from_chars(v.data(), end, d); r.ec == std::errc() && r.ptr == end) {
            sqlite3_bind_double(insert_, at, d);
            continue;
          }
          break;
        }
        case column_type::boolean:
          if (v == "true" || v == "false") {
            sqlite3_bind_int(insert_, at, v == "true");
            continue;
          }
          break;
        default: break;
      }
      sqlite3_bind_text(insert_, at, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    const int rc = sqlite3_step(insert_);
    if (rc != SQLITE_DONE) why = sqlite3_errmsg(db_);
    sqlite3_reset(insert_);
    return rc == SQLITE_DONE ? rc : sqlite3_extended_errcode(db_);
  }

  bool write_progress(int64_t rows, uint64_t checkpoint, std::string& error) {
    sqlite3_reset(progress_write_);
    bind_target(progress_write_);
    sqlite3_bind_int64(progress_write_, 4, rows);
    sqlite3_bind_int64(progress_write_, 5, static_cast<int64_t>(checkpoint));
    const int rc = sqlite3_step(progress_write_);
    sqlite3_reset(progress_write_);
    if (rc == SQLITE_DONE) return true;
    error = sqlite3_errmsg(db_);
    return false;
  }

  bool record_reject(const db_reject& x, std::string& error) {
    sqlite3_reset(reject_);
    bind_target(reject_);
    sqlite3_bind_int64(reject_, 4, x.position);
    sqlite3_bind_text(reject_, 5, x.error.data(), static_cast<int>(x.error.size()), SQLITE_STATIC);
    sqlite3_bind_text(reject_, 6, x.row.data(), static_cast<int>(x.row.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(reject_);
    sqlite3_reset(reject_);
    if (rc == SQLITE_DONE) return true;
    error = sqlite3_errmsg(db_);
    return false;
  }

  std::string path_;
  table_spec spec_;
  db_target target_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* progress_read_ = nullptr;
  sqlite3_stmt* progress_write_ = nullptr;
  sqlite3_stmt* reject_ = nullptr;
  row_fields fields_;
};

} // namespace

std::unique_ptr<db_writer> make_sqlite_writer(std::string path, table_spec spec, db_target target) {
  return std::make_unique<sqlite_writer>(std::move(path), std::move(spec), std::move(target));
}

} // namespace vigil
