#include "db/postgres_writer.hpp"

#include <algorithm>

#include <libpq-fe.h>

#include "db/row_text.hpp"

namespace vigil {

namespace {

/// A libpq result, cleared when it goes.
struct result {
  PGresult* r = nullptr;
  explicit result(PGresult* p) : r(p) {}
  ~result() { PQclear(r); }
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ExecStatusType status() const { return PQresultStatus(r); }
  std::string sqlstate() const {
    const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    return s ? s : "";
  }
};

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// SQLSTATE classes of a row the database refuses: 22 data exception
/// (a value of the wrong type or range), 23 integrity constraint.
bool refused_row(const std::string& sqlstate) {
  return sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0;
}

class postgres_writer final : public db_writer {
public:
  postgres_writer(std::string dsn, table_spec spec, db_target target)
    : dsn_(std::move(dsn)), spec_(std::move(spec)), target_(std::move(target)) {
    columns_ = column_list(spec_);
    for (size_t k = 0; k < spec_.key.size(); ++k) keys_ += (k ? ", " : "") + quote_identifier(spec_.columns[spec_.key[k]].name);
    stage_ = quote_identifier("vigil_stage_" + spec_.table);
  }
  ~postgres_writer() override { disconnect(); }

  bool connect(std::string& error) override {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return true;
    disconnect();
    // The sink's own settings first: the connection string's override them.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"5", "vigil", dsn_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      error = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
      disconnect();
      return false;
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "relation exists, skipping"
    const std::string table = quote_identifier(spec_.table);
    if (!exec_all(sink_tables_sql(true), error) || !ensure_table(error)
        || (!spec_.key.empty()
            && (!exec("CREATE TEMP TABLE " + stage_ + " (LIKE " + table + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                      error)
                || !exec("ALTER TABLE " + stage_ + " ADD COLUMN vigil_row BIGINT", error)))
        || !prepare(error)) {
      disconnect();
      return false;
    }
    return true;
  }

  bool read_progress(db_progress& out, std::string& error) override {
    if (!connect(error)) return false;
    out = {};
    const char* params[] = {target_.node.c_str(), target_.sink.c_str(), spec_.table.c_str()};
    result r(PQexecPrepared(conn_, "vigil_progress_read", 3, params, nullptr, nullptr, 0));
    if (r.status() != PGRES_TUPLES_OK) {
      error = trimmed(PQresultErrorMessage(r.r));
      lost_connection();
      return false;
    }
    if (PQntuples(r.r) > 0) {
      out.rows = std::stoll(PQgetvalue(r.r, 0, 0));
      out.checkpoint = std::stoull(PQgetvalue(r.r, 0, 1));
    }
    return true;
  }

  db_write_result write(const std::vector<std::string>& rows, int64_t first, int64_t through,
                        uint64_t checkpoint) override {
    db_write_result out;
    if (!connect(out.error)) return out;
    std::string sqlstate;
    if (exec("BEGIN", out.error) && copy(rows, out.error, sqlstate) && (spec_.key.empty() || merge_stage(out.error, sqlstate))
        && finish(through, checkpoint, {}, out.error)) {
      out.committed = true;
      return out;
    }
    abort();
    if (!refused_row(sqlstate)) {
      lost_connection();
      return out;
    }
    // A row in the batch was refused: the batch again, row by row, each
    // under a savepoint; only the refused rows are left out.
    out.error.clear();
    if (!exec("BEGIN", out.error)) return out;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string why;
      if (!exec("SAVEPOINT vigil_row", out.error)) break;
      if (insert_row(rows[i], why, sqlstate)) {
        if (!exec("RELEASE SAVEPOINT vigil_row", out.error)) break;
        continue;
      }
      if (!refused_row(sqlstate)) {
        out.error = why;
        break;
      }
      out.rejects.push_back({first + static_cast<int64_t>(i), rows[i], why});
      if (!exec("ROLLBACK TO SAVEPOINT vigil_row", out.error)) break;
    }
    if (out.error.empty() && finish(through, checkpoint, out.rejects, out.error)) {
      out.committed = true;
      return out;
    }
    out.rejects.clear();
    abort();
    lost_connection();
    return out;
  }

  bool read_rejects(int64_t from, int64_t to, std::vector<db_reject>& out, std::string& error) override {
    if (!connect(error)) return false;
    const std::string a = std::to_string(from), b = std::to_string(to);
    const char* params[] = {target_.node.c_str(), target_.sink.c_str(), spec_.table.c_str(), a.c_str(), b.c_str()};
    result r(PQexecParams(conn_,
                          "SELECT row_position, row_text, error FROM vigil_sink_rejects WHERE node = $1 AND sink = $2 "
                          "AND table_name = $3 AND row_position >= $4 AND row_position < $5 ORDER BY 1",
                          5, nullptr, params, nullptr, nullptr, 0));
    if (r.status() != PGRES_TUPLES_OK) {
      error = trimmed(PQresultErrorMessage(r.r));
      lost_connection();
      return false;
    }
    for (int i = 0; i < PQntuples(r.r); ++i)
      out.push_back({std::stoll(PQgetvalue(r.r, i, 0)), PQgetvalue(r.r, i, 1), PQgetvalue(r.r, i, 2)});
    return true;
  }

  void disconnect() override {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  std::string describe() const override { return "postgres " + describe_dsn(dsn_) + " table " + spec_.table; }

private:
  bool exec(const std::string& sql, std::string& error) {
    result r(PQexec(conn_, sql.c_str()));
    if (r.status() == PGRES_COMMAND_OK || r.status() == PGRES_TUPLES_OK) return true;
    error = trimmed(PQresultErrorMessage(r.r));
    if (error.empty()) error = trimmed(PQerrorMessage(conn_));
    return false;
  }

  bool exec_all(const std::vector<std::string>& statements, std::string& error) {
    for (const auto& sql : statements)
      if (!exec(sql, error)) return false;
    return true;
  }

  void abort() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      std::string ignored;
      exec("ROLLBACK", ignored);
    }
  }

  /// A connection that broke is dropped: the next write reconnects.
  void lost_connection() {
    if (conn_ && PQstatus(conn_) != CONNECTION_OK) disconnect();
  }

  /// Creates the table, or adds the columns the spec has and it lacks.
  bool ensure_table(std::string& error) {
    const char* params[] = {spec_.table.c_str()};
    result r(PQexecParams(conn_,
                          "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                          "AND table_name = $1",
                          1, nullptr, params, nullptr, nullptr, 0));
    if (r.status() != PGRES_TUPLES_OK) {
      error = trimmed(PQresultErrorMessage(r.r));
      return false;
    }
    std::vector<std::string> have, changes;
    for (int i = 0; i < PQntuples(r.r); ++i) have.emplace_back(PQgetvalue(r.r, i, 0));
    return table_changes(spec_, have, target_.create_table, true, changes, error) && exec_all(changes, error);
  }

  bool prepare(std::string& error) {
    std::string marks;
    for (size_t i = 0; i < spec_.columns.size(); ++i) marks += (i ? ", $" : "$") + std::to_string(i + 1);
    const std::string insert = upsert_sql(spec_, "VALUES (" + marks + ")");
    auto make = [&](const char* name, const std::string& sql, int params) {
      result r(PQprepare(conn_, name, sql.c_str(), params, nullptr));
      if (r.status() == PGRES_COMMAND_OK) return true;
      error = trimmed(PQresultErrorMessage(r.r));
      return false;
    };
    return make("vigil_row_insert", insert, static_cast<int>(spec_.columns.size()))
           && make("vigil_progress_read",
                   "SELECT rows_written, checkpoint_id FROM vigil_sink_progress WHERE node = $1 AND sink = $2 AND "
                   "table_name = $3", 3)
           && make("vigil_progress_write",
                   "INSERT INTO vigil_sink_progress (node, sink, table_name, rows_written, checkpoint_id, updated_at) "
                   "VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (node, sink, table_name) DO UPDATE SET "
                   "rows_written = EXCLUDED.rows_written, checkpoint_id = EXCLUDED.checkpoint_id, updated_at = now()", 5)
           && make("vigil_reject",
                   "INSERT INTO vigil_sink_rejects (node, sink, table_name, row_position, error, row_text) VALUES "
                   "($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING", 6);
  }

  /// COPY of `rows` into the table, or the staging table with each row's
  /// index (the newest of two rows with one key wins).
  bool copy(const std::vector<std::string>& rows, std::string& error, std::string& sqlstate) {
    const std::string sql = spec_.key.empty() ? "COPY " + quote_identifier(spec_.table) + " (" + columns_ + ") FROM STDIN"
                                              : "COPY " + stage_ + " (" + columns_ + ", vigil_row) FROM STDIN";
    {
      result r(PQexec(conn_, sql.c_str()));
      if (r.status() != PGRES_COPY_IN) {
        error = trimmed(PQresultErrorMessage(r.r));
        sqlstate = r.sqlstate();
        return false;
      }
    }
    buffer_.clear();
    bool sent = true;
    for (size_t i = 0; i < rows.size() && sent; ++i) {
      buffer_ += rows[i];
      if (!spec_.key.empty()) {
        buffer_ += '\t';
        buffer_ += std::to_string(i);
      }
      buffer_ += '\n';
      if (buffer_.size() >= (1u << 20) || i + 1 == rows.size()) {
        sent = PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) == 1;
        buffer_.clear();
      }
    }
    if (PQputCopyEnd(conn_, sent ? nullptr : "vigil: sending failed") != 1) sent = false;
    bool ok = sent;
    while (PGresult* p = PQgetResult(conn_)) {
      result r(p);
      if (r.status() != PGRES_COMMAND_OK) {
        ok = false;
        error = trimmed(PQresultErrorMessage(r.r));
        sqlstate = r.sqlstate();
      }
    }
    if (!ok && error.empty()) error = trimmed(PQerrorMessage(conn_));
    return ok;
  }

  bool merge_stage(std::string& error, std::string& sqlstate) {
    const std::string sql = upsert_sql(spec_, "SELECT DISTINCT ON (" + keys_ + ") " + columns_ + " FROM " + stage_ +
                                                " ORDER BY " + keys_ + ", vigil_row DESC");
    result r(PQexec(conn_, sql.c_str()));
    if (r.status() == PGRES_COMMAND_OK) return true;
    error = trimmed(PQresultErrorMessage(r.r));
    sqlstate = r.sqlstate();
    return false;
  }

  bool insert_row(const std::string& line, std::string& why, std::string& sqlstate) {
    split_row_text(line, fields_);
    values_.assign(spec_.columns.size(), std::string());
    std::vector<const char*> params(spec_.columns.size(), nullptr);
    for (size_t i = 0; i < spec_.columns.size() && i < fields_.values.size(); ++i)
      if (!fields_.null[i]) {
        values_[i].assign(fields_.values[i]);
        params[i] = values_[i].c_str();
      }
    result r(PQexecPrepared(conn_, "vigil_row_insert", static_cast<int>(params.size()), params.data(), nullptr,
                            nullptr, 0));
    if (r.status() == PGRES_COMMAND_OK) return true;
    why = trimmed(PQresultErrorMessage(r.r));
    sqlstate = r.sqlstate();
    return false;
  }

  /// The rejects and the progress, then COMMIT.
  bool finish(int64_t rows, uint64_t checkpoint, const std::vector<db_reject>& rejects, std::string& error) {
    for (const auto& x : rejects) {
      const std::string position = std::to_string(x.position);
      const char* params[] = {target_.node.c_str(), target_.sink.c_str(), spec_.table.c_str(), position.c_str(),
                              x.error.c_str(), x.row.c_str()};
      result r(PQexecPrepared(conn_, "vigil_reject", 6, params, nullptr, nullptr, 0));
      if (r.status() != PGRES_COMMAND_OK) {
        error = trimmed(PQresultErrorMessage(r.r));
        return false;
      }
    }
    const std::string n = std::to_string(rows), id = std::to_string(checkpoint);
    const char* params[] = {target_.node.c_str(), target_.sink.c_str(), spec_.table.c_str(), n.c_str(), id.c_str()};
    result r(PQexecPrepared(conn_, "vigil_progress_write", 5, params, nullptr, nullptr, 0));
    if (r.status() != PGRES_COMMAND_OK) {
      error = trimmed(PQresultErrorMessage(r.r));
      return false;
    }
    return exec("COMMIT", error);
  }

  std::string dsn_;
  table_spec spec_;
  db_target target_;
  std::string columns_, keys_, stage_;
  PGconn* conn_ = nullptr;
  std::string buffer_;
  row_fields fields_;
  std::vector<std::string> values_;
};

} // namespace

std::unique_ptr<db_writer> make_postgres_writer(std::string dsn, table_spec spec, db_target target) {
  return std::make_unique<postgres_writer>(std::move(dsn), std::move(spec), std::move(target));
}

std::string describe_dsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &err);
  if (!options) {
    PQfreemem(err);
    return "";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    const std::string key = o->keyword;
    if (!o->val || !*o->val) continue;
    const char* label = key == "host" || key == "hostaddr" ? "host" : key == "port" ? "port" : key == "dbname" ? "database" : key == "user" ? "user" : nullptr;
    if (label) out += (out.empty() ? "" : " ") + std::string(label) + " " + o->val;
  }
  PQconninfoFree(options);
  return out.empty() ? "(libpq defaults)" : out;
}

} // namespace vigil
