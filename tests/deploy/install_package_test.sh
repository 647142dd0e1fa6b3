#!/usr/bin/env bash
# Installs vigil as an operator would and runs what was installed:
#   1. cmake --install into a fresh prefix (what `make install` does);
#   2. cpack -G DEB, the .deb's Debian dependencies, and the package
#      unpacked into a clean directory (dpkg-deb -x: no root, no chroot);
#   3. the bash completion, in a real bash with bash-completion loaded.
# Each installed binary prints its version and checks the installed example.
#   tests/deploy/install_package_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# -- 1. cmake --install
cmake --install "$build" --prefix "$work/prefix" >/dev/null
p=$work/prefix
for f in bin/vigil share/vigil/config/vigil.example.toml share/vigil/config/signatures.txt \
         lib/systemd/system/vigil@.service share/man/man1/vigil.1 share/bash-completion/completions/vigil \
         share/doc/vigil/LICENSE; do
  [ -f "$p/$f" ] || fail "cmake --install did not install $f"
done
"$p/bin/vigil" --version | grep -q '^vigil 0\.[0-9.]* (commit [0-9a-f]\{12\}' || fail "installed vigil --version: $("$p/bin/vigil" --version)"
"$p/bin/vigil" check-config -c "$p/share/vigil/config/vigil.example.toml" >/dev/null 2>&1 || fail "check-config of the installed example"
grep -q "^ExecStart=$p/bin/vigil run -c /etc/vigil/%i.toml$" "$p/lib/systemd/system/vigil@.service" \
  || fail "the unit does not name the installed binary: $(grep ExecStart "$p/lib/systemd/system/vigil@.service")"
if command -v systemd-analyze >/dev/null; then
  # The man page is not in the system's man path from this prefix: that
  # complaint is expected; any other is not.
  complaints=$(systemd-analyze verify "$p/lib/systemd/system/vigil@.service" 2>&1 | grep -v "^$\|man vigil(1)" || true)
  [ -z "$complaints" ] || fail "systemd-analyze verify: $complaints"
fi
man -l "$p/share/man/man1/vigil.1" >/dev/null 2>&1 || groff -man -Tutf8 "$p/share/man/man1/vigil.1" >/dev/null \
  || fail "the man page does not render"
echo "cmake --install: ok"

# -- 2. the .deb
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >/dev/null 2>&1) || fail "cpack -G DEB"
deb=$(ls "$work"/pkg/vigil_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libcaf-core librocksdb libzmq5 libhyperscan libstdc++6 tzdata; do
  grep -q "$lib" <<<"$depends" || fail "the .deb does not depend on $lib: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = vigil ] || fail "package name"
dpkg-deb -x "$deb" "$work/root"
r=$work/root
[ -x "$r/usr/bin/vigil" ] || fail "no /usr/bin/vigil in the .deb"
"$r/usr/bin/vigil" --version | grep -q '^vigil ' || fail "the packaged vigil does not run"
"$r/usr/bin/vigil" check-config -c "$r/usr/share/vigil/config/vigil.example.toml" >/dev/null 2>&1 \
  || fail "check-config of the packaged example"
grep -q '^ExecStart=/usr/bin/vigil run' "$r/usr/lib/systemd/system/vigil@.service" || fail "the packaged unit"
echo "deb: ok ($(basename "$deb"), $(stat -c %s "$deb") bytes; Depends: $depends)"

# -- 3. bash completion
completions=$(bash -c '
  source /usr/share/bash-completion/bash_completion
  source "$1"
  complete_line() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                    COMPREPLY=(); _vigil vigil "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; echo "${COMPREPLY[*]}"; }
  complete_line vigil anal
  complete_line vigil anomaly sc
  complete_line vigil analyze --ht
  complete_line vigil run --log-level w
  complete_line vigil analyze -f comb
' _ "$p/share/bash-completion/completions/vigil")
expected=$'analyze\nscore\n--html\nwarn\ncombined combined_rt'
[ "$completions" = "$expected" ] || fail "bash completion gave: $completions"
echo "bash completion: ok"
