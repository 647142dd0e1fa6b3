#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anomaly/series_detector.hpp"

namespace vigil {

/// A series file's time column: "2014-04-10 07:15:00" (UTC unless it
/// names a zone; a T, fractions and an offset as RFC 3339 has them), or
/// Unix seconds. Nullopt when it is neither.
std::optional<int64_t> parse_series_time(std::string_view text);

struct series_file_stats {
  uint64_t points = 0;   ///< rows scored
  uint64_t skipped = 0;  ///< rows whose time or value did not read (written with score 0)
  uint64_t alerts = 0;
  std::string first_problem;  ///< "FILE:LINE: ..." of the first skipped row
};

/// Runs one detector over a `timestamp,value` CSV (a header, then one
/// point a row, in time order) and writes `timestamp,value,anomaly_score`
/// to `out_path`, one row per input row (NAB's results). A row that does
/// not read is written with score 0 and counted, never dropped. Returns
/// "" or what stopped it (a file that cannot be read or written).
std::string score_series_file(const detector_params& params, const std::string& in_path,
                              const std::string& out_path, series_file_stats& stats);

} // namespace vigil
