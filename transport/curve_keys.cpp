#include "transport/curve_keys.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <zmq.h>

namespace vigil {

namespace {

constexpr size_t z85_key = 40;

} // namespace

bool is_z85_key(const std::string& key) {
  uint8_t bytes[32];
  return key.size() == z85_key && zmq_z85_decode(bytes, key.c_str()) != nullptr;
}

bool curve_available() { return zmq_has("curve") != 0; }

curve_key_pair make_curve_keys() {
  char pub[z85_key + 1] = {}, sec[z85_key + 1] = {};
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error(std::string("cannot make a Curve key pair: ") + zmq_strerror(zmq_errno()));
  return {pub, sec};
}

std::string curve_public_of(const std::string& secret_key) {
  char pub[z85_key + 1] = {};
  if (secret_key.size() != z85_key || zmq_curve_public(pub, secret_key.c_str()) != 0)
    throw std::invalid_argument("not a Curve secret key (40 Z85 characters)");
  return pub;
}

bool read_secret_key_file(const std::string& path, curve_key_pair& keys, std::string& error) {
  std::ifstream in(path);
  if (!in || !std::getline(in, keys.secret_key)) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  try {
    keys.public_key = curve_public_of(keys.secret_key);
  } catch (const std::invalid_argument&) {
    error = path + " holds no Curve secret key (write one with `vigil keygen`)";
    return false;
  }
  return true;
}

curve_key_pair write_curve_key_files(const std::string& dir, const std::string& name) {
  const curve_key_pair keys = make_curve_keys();
  const std::string secret_path = dir + "/" + name + ".key", public_path = dir + "/" + name + ".pub";
  // O_EXCL: an existing key is someone's identity; never replace it.
  const int fd = ::open(secret_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw std::runtime_error(secret_path + ": " + std::strerror(errno));
  const std::string secret_line = keys.secret_key + "\n";
  const bool wrote = ::write(fd, secret_line.data(), secret_line.size()) == static_cast<ssize_t>(secret_line.size());
  ::close(fd);
  if (!wrote) throw std::runtime_error(secret_path + ": write failed");
  std::ofstream pub(public_path, std::ios::trunc);
  pub << keys.public_key << "\n";
  if (!pub) throw std::runtime_error(public_path + ": write failed");
  return keys;
}

} // namespace vigil
