#pragma once

#include <string>
#include <vector>

namespace vigil {

/// A CurveZMQ key pair, each key in Z85 text (40 characters).
struct curve_key_pair {
  std::string public_key;
  std::string secret_key;
};

/// How one ZeroMQ socket takes part in CurveZMQ: its own key pair (no
/// secret key: plain TCP), and its peers' public keys: the clients it lets
/// in when it binds, the server's when it connects (all Z85).
struct curve_peers {
  std::string public_key, secret_key;
  std::vector<std::string> allowed_keys;
  std::string server_key;
  bool enabled() const noexcept { return !secret_key.empty(); }
};

/// Reads a Curve secret key from the first line of `path` (as `vigil
/// keygen` writes it) and derives its public key. False with `error`
/// ("cannot read F: why", "F holds no Curve secret key") otherwise.
bool read_secret_key_file(const std::string& path, curve_key_pair& keys, std::string& error);

/// Whether `key` is a Curve key in Z85 (40 characters that decode).
bool is_z85_key(const std::string& key);

/// Whether this libzmq was built with CurveZMQ (libsodium).
bool curve_available();

/// A fresh key pair. Throws `std::runtime_error` when libzmq has no Curve.
curve_key_pair make_curve_keys();

/// The public key that belongs to `secret_key` (Z85); throws
/// `std::invalid_argument` when it is not a Z85 Curve secret key.
std::string curve_public_of(const std::string& secret_key);

/// Writes `DIR/NAME.key` (the secret key, mode 0600, created only if it
/// does not exist) and `DIR/NAME.pub` (the public key). Returns the key
/// pair; throws `std::runtime_error` naming the file on any failure, or
/// when the secret key file exists already (a key is never overwritten).
curve_key_pair write_curve_key_files(const std::string& dir, const std::string& name);

} // namespace vigil
