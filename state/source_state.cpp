#include "state/source_state.hpp"

#include "state/state_codec.hpp"

namespace vigil {

std::string encode_tail_positions(const std::vector<tail_position>& positions) {
  state_writer w;
  w.u64(positions.size());
  for (const auto& p : positions) {
    w.str(p.path);
    w.u64(p.id.device);
    w.u64(p.id.inode);
    w.u64(p.id.fingerprint);
    w.u64(p.id.fingerprint_length);
    w.u64(p.offset);
  }
  return w.take();
}

std::vector<tail_position> decode_tail_positions(std::string_view bytes) {
  state_reader r(bytes);
  std::vector<tail_position> out;
  for (size_t n = r.count(); n > 0; --n) {
    tail_position p;
    p.path = r.str();
    p.id.device = r.u64();
    p.id.inode = r.u64();
    p.id.fingerprint = r.u64();
    p.id.fingerprint_length = static_cast<uint32_t>(r.u64());
    p.offset = r.u64();
    out.push_back(std::move(p));
  }
  if (!r.done()) throw state_decode_error("source state has bytes after its positions");
  return out;
}

} // namespace vigil
