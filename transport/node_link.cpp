#include "transport/node_link.hpp"

#include <fstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "transport/curve_keys.hpp"

namespace vigil {

node_link::node_link(node_link_config cfg) : cfg_(std::move(cfg)) {
  std::vector<std::string> allowed;
  std::map<std::string, std::string> names;
  for (const auto& p : cfg_.peers) {
    auto out = std::make_unique<outbound>();
    out->client = std::make_unique<frame_client>(p.endpoint, cfg_.curve, p.public_key);
    peers_.emplace(p.name, std::move(out));
    if (!p.public_key.empty()) {
      allowed.push_back(p.public_key);
      names[p.public_key] = p.name;
    }
  }
  frame_server_config server;
  server.node = cfg_.node;
  server.endpoint = cfg_.endpoint;
  server.limits = cfg_.limits;
  server.curve = cfg_.curve;
  server.allowed_peers = std::move(allowed);
  server.peer_names = std::move(names);
  server_ = std::make_unique<frame_server>(server, [this](const frame_view& f) {
    if (peers_.count(f.header.sender) == 0) {
      // A key can be shared by mistake; a name is what the node set knows.
      if (++unknown_senders_ == 1 || unknown_senders_ % 1000 == 0)
        spdlog::warn("node {}: frame from {}, which is not a peer in the cluster config: dropped ({} so far)",
                     cfg_.node, f.header.sender, unknown_senders_.load());
      return;
    }
    {
      std::unique_lock<std::mutex> guard(inbox_lock_);
      inbox_room_.wait(guard, [this] { return closing_ || inbox_bytes_ < max_inbox_bytes; });
      if (closing_) return;
      inbox_bytes_ += f.body.size();
      inbox_.push_back(received_frame{f.header.type, f.header.sender, f.header.sequence, std::string(f.body)});
    }
    inbox_ready_.notify_one();
  });
}

node_link::~node_link() {
  {
    std::lock_guard<std::mutex> guard(inbox_lock_);
    closing_ = true;
  }
  inbox_room_.notify_all();
  server_.reset();
}

bool node_link::send(const std::string& peer, frame_type type, std::string_view body,
                     std::chrono::milliseconds timeout) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  auto& out = *it->second;
  std::lock_guard<std::mutex> guard(out.lock);
  const std::string frame = encode_frame(frame_header{type, cfg_.node, out.sequence + 1}, body);
  if (!out.client->send(frame, timeout)) return false;
  ++out.sequence;
  return true;
}

std::optional<received_frame> node_link::next(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> guard(inbox_lock_);
  if (!inbox_ready_.wait_for(guard, wait, [this] { return !inbox_.empty(); })) return std::nullopt;
  received_frame f = std::move(inbox_.front());
  inbox_.pop_front();
  inbox_bytes_ -= f.body.size();
  inbox_room_.notify_one();
  return f;
}

std::optional<curve_identity> read_curve_identity(const std::string& public_key, const std::string& secret_key_file) {
  if (public_key.empty()) return std::nullopt;
  curve_key_pair keys;
  std::string error;
  if (!read_secret_key_file(secret_key_file, keys, error)) throw std::runtime_error(error);
  return curve_identity{public_key, keys.secret_key};
}

} // namespace vigil
