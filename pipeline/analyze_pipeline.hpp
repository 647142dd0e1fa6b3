#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "input/chunk_reader.hpp"
#include "messages/interfaces.hpp"
#include "parse/line_parser.hpp"
#include "report/batch_aggregate.hpp"

namespace vigil {

/// Everything `vigil analyze` needs to run.
struct analyze_job {
  std::vector<std::string> inputs;  ///< paths; "-" is stdin
  parser_options parser;
  aggregate_options aggregate;
  chunk_reader_options reader;
  /// Parse workers. Default: one per core.
  size_t workers = 0;
  /// Called on the reader thread after each chunk (e.g. a progress bar).
  std::function<void(const chunk_reader&)> on_progress;
};

struct analyze_outcome {
  aggregate_ptr aggregate;
  std::vector<log_format> formats;  ///< the format each input was read as
  uint64_t input_bytes = 0;         ///< bytes on disk (compressed for .gz)
  uint64_t text_bytes = 0;          ///< decompressed bytes parsed
  double elapsed_s = 0;
};

/// Runs the analyze graph: reader -> N parse/aggregate workers -> merger.
/// Returns false with `error` set ("FILE: reason") when an input cannot be
/// opened or read.
bool run_analyze(const analyze_job& job, analyze_outcome& out, std::string& error);

} // namespace vigil
