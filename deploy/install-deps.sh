#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, test and benchmark.
# Idempotent: prints nothing and touches nothing when all packages are present.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config make
  # engine stack
  libcaf-dev libzmq3-dev cppzmq-dev libmsgpack-cxx-dev librocksdb-dev
  libspdlog-dev libfmt-dev
  # parsing, config, CLI
  libsimdjson-dev nlohmann-json3-dev libabsl-dev libtomlplusplus-dev libcli11-dev libcurl4-openssl-dev libcpp-httplib-dev libmuparser-dev libxxhash-dev libhyperscan-dev zlib1g-dev
  # database sinks
  libpq-dev libsqlite3-dev
  # the IANA zones of transform time_zone = "Europe/Berlin"
  tzdata
  # packaging (dpkg-shlibdeps for the .deb's dependencies)
  dpkg-dev
  # tests and benchmarks
  catch2 libbenchmark-dev goaccess mawk gzip bash-completion util-linux curl
  # bench/crs_judge: the OWASP CRS in libmodsecurity, a WAF to compare attack detection with
  libmodsecurity-dev modsecurity-crs
  # mkfs.ext4: the full-disk test puts a state dir on a small ext4 file system
  e2fsprogs
  # real servers and a real browser the tests start on loopback
  prometheus prometheus-alertmanager chromium postgresql sqlite3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
