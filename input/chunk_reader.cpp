#include "input/chunk_reader.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace vigil {

namespace {

class fd_source : public byte_source {
public:
  fd_source(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
  ~fd_source() override {
    if (owned_) ::close(fd_);
  }
  long read(char* buf, size_t n, std::string& error) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        consumed_ += static_cast<uint64_t>(r);
        return r;
      }
      if (errno == EINTR) continue;
      error = name_ + ": read failed: " + std::strerror(errno);
      return -1;
    }
  }
  uint64_t consumed() const override { return consumed_; }

private:
  int fd_;
  std::string name_;
  bool owned_;
  uint64_t consumed_ = 0;
};

/// Inflates a gzip stream read from another source.
class gzip_source : public byte_source {
public:
  gzip_source(std::unique_ptr<byte_source> raw, std::string name, std::string first_bytes)
    : raw_(std::move(raw)), name_(std::move(name)), in_(std::move(first_bytes)) {
    std::memset(&zs_, 0, sizeof(zs_));
    inflateInit2(&zs_, 15 + 32);  // +32: accept gzip and zlib headers
    in_.reserve(in_capacity);
  }
  ~gzip_source() override { inflateEnd(&zs_); }

  long read(char* buf, size_t n, std::string& error) override {
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out == n) {
      if (in_pos_ == in_.size() && !raw_eof_) {
        in_.resize(in_capacity);
        long r = raw_->read(in_.data(), in_capacity, error);
        if (r < 0) return -1;
        in_.resize(static_cast<size_t>(r));
        in_pos_ = 0;
        raw_eof_ = r == 0;
      }
      if (in_pos_ == in_.size() && raw_eof_) {
        if (mid_stream_) {
          error = name_ + ": gzip data ends early (truncated file?) after "
                  + std::to_string(raw_->consumed()) + " compressed bytes";
          return -1;
        }
        break;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
      zs_.avail_in = static_cast<uInt>(in_.size() - in_pos_);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_pos_ = in_.size() - zs_.avail_in;
      mid_stream_ = true;
      if (rc == Z_STREAM_END) {
        mid_stream_ = false;
        inflateReset(&zs_);  // a following gzip member continues the stream
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error = name_ + ": corrupt gzip data near compressed byte "
                + std::to_string(raw_->consumed() - (in_.size() - in_pos_)) + ": "
                + (zs_.msg ? zs_.msg : "inflate failed");
        return -1;
      }
    }
    return static_cast<long>(n - zs_.avail_out);
  }
  uint64_t consumed() const override { return raw_->consumed(); }

private:
  static constexpr size_t in_capacity = 256 * 1024;
  std::unique_ptr<byte_source> raw_;
  std::string name_;
  std::string in_;
  size_t in_pos_ = 0;
  bool raw_eof_ = false;
  bool mid_stream_ = false;
  z_stream zs_;
};

} // namespace

std::unique_ptr<byte_source> byte_source::open(const std::string& path, std::string& error) {
  std::unique_ptr<byte_source> raw;
  if (path == "-") {
    raw = std::make_unique<fd_source>(STDIN_FILENO, "stdin", false);
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = path + ": cannot open: " + std::strerror(errno);
      return nullptr;
    }
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      error = path + ": is a directory";
      return nullptr;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    raw = std::make_unique<fd_source>(fd, path, true);
  }
  // Sniff the gzip magic rather than trust the file name.
  std::string head(2, '\0');
  size_t got = 0;
  while (got < 2) {
    long r = raw->read(head.data() + got, 2 - got, error);
    if (r < 0) return nullptr;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  head.resize(got);
  if (got == 2 && static_cast<unsigned char>(head[0]) == 0x1f
      && static_cast<unsigned char>(head[1]) == 0x8b)
    return std::make_unique<gzip_source>(std::move(raw), path, std::move(head));
  // Not gzip: hand back the sniffed bytes first.
  class prefixed : public byte_source {
  public:
    prefixed(std::unique_ptr<byte_source> s, std::string p) : s_(std::move(s)), p_(std::move(p)) {}
    long read(char* buf, size_t n, std::string& error) override {
      if (pos_ < p_.size()) {
        size_t k = std::min(n, p_.size() - pos_);
        std::memcpy(buf, p_.data() + pos_, k);
        pos_ += k;
        return static_cast<long>(k);
      }
      return s_->read(buf, n, error);
    }
    uint64_t consumed() const override { return s_->consumed(); }

  private:
    std::unique_ptr<byte_source> s_;
    std::string p_;
    size_t pos_ = 0;
  };
  return std::make_unique<prefixed>(std::move(raw), std::move(head));
}

chunk_reader::chunk_reader(std::vector<std::string> paths, chunk_reader_options opts)
  : paths_(std::move(paths)), opts_(opts) {}

chunk_reader::~chunk_reader() = default;

bool chunk_reader::open_all(std::string& error) {
  for (const auto& p : paths_) {
    auto s = byte_source::open(p, error);
    if (!s) return false;
    struct stat st;
    if (p != "-" && ::stat(p.c_str(), &st) == 0) total_bytes_ += static_cast<uint64_t>(st.st_size);
    sources_.push_back(std::move(s));
    formats_.push_back(opts_.format);
  }
  return true;
}

uint64_t chunk_reader::consumed_bytes() const noexcept {
  uint64_t n = consumed_done_;
  if (current_ < sources_.size()) n += sources_[current_]->consumed();
  return n;
}

bool chunk_reader::fill(std::string& buf, size_t want) {
  while (buf.size() < want && !eof_) {
    size_t old = buf.size();
    buf.resize(want);
    long r = sources_[current_]->read(buf.data() + old, want - old, error_);
    if (r < 0) {
      buf.resize(old);
      return false;
    }
    buf.resize(old + static_cast<size_t>(r));
    if (r == 0) eof_ = true;
  }
  return true;
}

std::optional<text_chunk> chunk_reader::next() {
  while (current_ < sources_.size()) {
    text_chunk chunk;
    chunk.text = std::move(carry_);
    carry_.clear();
    chunk.text.reserve(opts_.chunk_bytes + 1);
    if (!fill(chunk.text, opts_.chunk_bytes)) return std::nullopt;

    size_t cut = chunk.text.rfind('\n');
    if (cut != std::string::npos) {
      carry_.assign(chunk.text, cut + 1, std::string::npos);
      chunk.text.resize(cut + 1);
    } else if (eof_) {
      if (!chunk.text.empty()) chunk.text.push_back('\n');
    } else {
      // A full chunk without a newline: one oversized line. Keep enough of
      // it for the parser to reject it as too long, skip the rest.
      chunk.text.resize(std::min(chunk.text.size(), opts_.max_line_bytes + 1));
      chunk.text.push_back('\n');
      std::string skip;
      for (;;) {
        skip.clear();
        if (!fill(skip, 64 * 1024)) return std::nullopt;
        auto nl = skip.find('\n');
        if (nl != std::string::npos) {
          carry_.assign(skip, nl + 1, std::string::npos);
          break;
        }
        if (eof_) break;
      }
    }

    const auto input = static_cast<uint32_t>(current_);
    const uint64_t start = offset_;
    offset_ += chunk.text.size();
    if (eof_ && carry_.empty()) {
      // This input is done: the next call moves to the following one.
      consumed_done_ += sources_[current_]->consumed();
      sources_[current_].reset();
      ++current_;
      eof_ = false;
      offset_ = 0;
    }
    if (chunk.text.empty()) continue;
    chunk.input = input;
    if (formats_[input] == log_format::auto_detect) formats_[input] = sniff_log_format(chunk.text);
    chunk.format = formats_[input];
    chunk.offset = start;
    chunk.sequence = sequence_++;
    text_bytes_ += chunk.text.size();
    return chunk;
  }
  return std::nullopt;
}

} // namespace vigil
