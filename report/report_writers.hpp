#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "parse/log_format.hpp"
#include "report/analysis_report.hpp"

namespace vigil {

/// What was analysed: shown in every rendering.
struct report_inputs {
  std::vector<std::string> names;     ///< file names, "-" for stdin
  std::vector<log_format> formats;    ///< the format each was read as
};

/// The analyze JSON (PRODUCT.md, "Analyze JSON"): deterministic, no timings.
std::string render_json(const analysis_report& r, const report_inputs& in);

/// A readable terminal summary. `elapsed_s` (0 hides it) adds throughput.
void render_text(std::ostream& out, const analysis_report& r, const report_inputs& in,
                 double elapsed_s, uint64_t input_bytes);

/// One self-contained HTML page: inline CSS and SVG charts, no scripts or
/// network fetches.
std::string render_html(const analysis_report& r, const report_inputs& in);

/// Human units: "1.2 MiB", "3.4k".
std::string human_bytes(uint64_t bytes);
std::string format_micros(uint64_t us);

} // namespace vigil
