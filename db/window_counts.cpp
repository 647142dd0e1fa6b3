#include "db/window_counts.hpp"

#include <libpq-fe.h>

#include "db/table_spec.hpp"

namespace vigil {

bool postgres_window_counts(const std::string& dsn, const std::string& table, const std::string& group,
                            const std::string& metric, std::map<std::pair<std::string, int64_t>, uint64_t>& out,
                            std::string& error) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
    PQfinish(conn);
    return false;
  }
  const std::string sql = "SELECT " + quote_identifier(group) + ", (extract(epoch FROM window_start) * 1000)::bigint, " +
                          quote_identifier(metric) + "::bigint FROM " + quote_identifier(table);
  PGresult* r = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) error = PQresultErrorMessage(r);
  for (int i = 0; ok && i < PQntuples(r); ++i)
    out[{PQgetvalue(r, i, 0), std::stoll(PQgetvalue(r, i, 1))}] = std::stoull(PQgetvalue(r, i, 2));
  PQclear(r);
  PQfinish(conn);
  while (!error.empty() && error.back() == '\n') error.pop_back();
  return ok;
}

} // namespace vigil
