#pragma once

#include <memory>
#include <string>

#include "db/db_writer.hpp"

namespace vigil {

/// A `type = "postgres"` sink's connection (libpq). A batch is one
/// transaction: its rows go in with COPY ... FROM STDIN (text format),
/// straight into the table, or for a keyed table into a temporary
/// staging table and from there with INSERT ... ON CONFLICT DO UPDATE.
std::unique_ptr<db_writer> make_postgres_writer(std::string dsn, table_spec spec, db_target target);

/// "host 127.0.0.1 port 5432 database shop user vigil" of a connection
/// string, without its password; "" when libpq cannot parse it.
std::string describe_dsn(const std::string& dsn);

} // namespace vigil
