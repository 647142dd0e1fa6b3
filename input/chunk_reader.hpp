#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/text_chunk.hpp"
#include "parse/log_format.hpp"

namespace vigil {

/// Reads bytes from one input: a plain file, a gzip file (detected by its
/// magic bytes, concatenated members included) or standard input ("-").
class byte_source {
public:
  virtual ~byte_source() = default;
  /// Reads up to `n` bytes; 0 at the end. On failure returns -1 and sets `error`.
  virtual long read(char* buf, size_t n, std::string& error) = 0;
  /// Bytes consumed from the underlying file (compressed bytes for gzip).
  virtual uint64_t consumed() const = 0;

  /// Opens `path` ("-" = stdin). On failure returns null with `error` set to
  /// "PATH: reason".
  static std::unique_ptr<byte_source> open(const std::string& path, std::string& error);
};

/// Settings of the reader.
struct chunk_reader_options {
  /// Target chunk size. Default: 1 MiB (fits a worker's cache, keeps
  /// several chunks in flight per worker cheap).
  size_t chunk_bytes = 1u << 20;
  /// Longer lines are cut to this many bytes (plus one, so the parser sees
  /// them as too long) and the rest skipped. Default: 64 KiB.
  size_t max_line_bytes = 64 * 1024;
  /// Format of every input; `auto_detect` sniffs each from its first chunk.
  log_format format = log_format::auto_detect;
};

/// Splits a list of inputs into `text_chunk`s of whole lines, in order.
/// A line never spans two chunks or two inputs; an input's last line gets a
/// newline if it lacks one.
class chunk_reader {
public:
  chunk_reader(std::vector<std::string> paths, chunk_reader_options opts);
  ~chunk_reader();

  /// Opens every input up front so a typo fails before any work.
  bool open_all(std::string& error);

  /// The next chunk; nullopt at the end of the last input or on error
  /// (then `error()` is non-empty).
  std::optional<text_chunk> next();

  const std::string& error() const noexcept { return error_; }
  /// Sum of the input files' sizes on disk (0 for stdin).
  uint64_t total_bytes() const noexcept { return total_bytes_; }
  /// Bytes consumed so far, comparable with `total_bytes()`.
  uint64_t consumed_bytes() const noexcept;
  /// Decompressed bytes handed out so far.
  uint64_t text_bytes() const noexcept { return text_bytes_; }
  /// The format each input was read as (resolved when its first chunk is read).
  const std::vector<log_format>& formats() const noexcept { return formats_; }
  const std::vector<std::string>& paths() const noexcept { return paths_; }

private:
  bool fill(std::string& buf, size_t want);

  std::vector<std::string> paths_;
  chunk_reader_options opts_;
  std::vector<std::unique_ptr<byte_source>> sources_;
  std::vector<log_format> formats_;
  size_t current_ = 0;
  bool eof_ = false;           // current input exhausted
  std::string carry_;          // partial last line of the previous chunk
  uint64_t offset_ = 0;        // decompressed offset of carry_ in the current input
  uint64_t sequence_ = 0;
  uint64_t total_bytes_ = 0;
  uint64_t consumed_done_ = 0; // consumed bytes of finished inputs
  uint64_t text_bytes_ = 0;
  std::string error_;
};

} // namespace vigil
