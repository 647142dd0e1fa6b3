#pragma once

#include <memory>
#include <string>

#include "db/db_writer.hpp"

namespace vigil {

/// A `type = "sqlite"` sink's database file: WAL mode, synchronous=FULL
/// (a committed batch survives a power cut, so the progress never runs
/// ahead of the rows), one transaction per batch.
std::unique_ptr<db_writer> make_sqlite_writer(std::string path, table_spec spec, db_target target);

} // namespace vigil
