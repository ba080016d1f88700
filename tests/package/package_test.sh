#!/usr/bin/env bash
# package_test.sh BUILD_DIR SOURCE_DIR: the Debian package, built by cpack from BUILD_DIR,
# holds exactly the expected files with the expected modes, declares its
# dependencies, and installs into (and is purged from) a clean root with
# `dpkg --root`, twice: with the maintainer scripts run chrootless (no shell
# in the root, DPKG_ROOT set) and chrooted (a root whose only userland is
# busybox, as a minimal container: no systemctl). Never touches the host's
# dpkg database; everything lives in one temporary directory, removed at exit.
# Exit status 77: skipped (ctest SKIP_RETURN_CODE), saying why.
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
cpack=${CPACK:-cpack}  # ctest gives the cpack of the cmake that configured BUILD_DIR
for tool in dpkg-deb dpkg "$cpack" dpkg-shlibdeps readelf; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/common.sh installs it: cmake, dpkg, dpkg-dev, binutils)"
done
[ "$(id -u)" -eq 0 ] || skip "dpkg --root installs files owned by root: run as root"

tmp=$(mktemp -d /tmp/syscg-package-test.XXXXXX)
# cpack's install step writes install_manifest.txt into the build tree: put
# back what was there.
manifest=$build/install_manifest.txt
if [ -e "$manifest" ]; then cp -p "$manifest" "$tmp/install_manifest.txt"; fi
cleanup() {
  if [ -e "$tmp/install_manifest.txt" ]; then cp -p "$tmp/install_manifest.txt" "$manifest"; else rm -f "$manifest"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- Build the package from the build tree (its own staging and output in
# $tmp: nothing is written to the build tree but what `make` brings up to date).
echo "==> $cpack -G DEB"
(cd "$build" && "$cpack" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || {
  cat "$tmp/cpack.log"
  fail "cpack failed"
}
debs=("$tmp"/out/syscg_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then fail "expected one syscg_*.deb, got: $(ls "$tmp/out")"; fi
deb=${debs[0]}
echo "    $(basename "$deb")"

# --- The control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = syscg ] || fail "Package: $(field Package)"
[ "$(field Version)" = 0.1.0 ] || fail "Version: $(field Version)"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
echo "    Depends: $depends"
# The package names in Depends, one a line, without versions.
dep_names=$(echo "$depends" | tr ',|' '\n' | sed 's/(.*//; s/ //g' | sed '/^$/d')
has_dep() { grep -qx "$1" <<<"$dep_names"; }
# The host package that holds a library (dpkg -S: by the path ldconfig gives,
# or the file it links to, in the same or the resolved directory: /usr may be
# merged into /).
owner_of() {
  local path=$1 real
  real=$(readlink -f "$path")
  local candidate out
  for candidate in "$path" "$(dirname "$path")/$(basename "$real")" "$real"; do
    if out=$(dpkg -S "$candidate" 2>/dev/null); then
      out=${out%%$'\n'*}
      echo "${out%%:*}"
      return 0
    fi
  done
  return 1
}
has_dep fuse3 || fail "Depends lacks fuse3 (fusermount3, mount.fuse3)"
# Every shared library the programs need, by the host package that holds it.
for prog in syscgfs syscg; do
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/bin/$prog" >"$tmp/$prog"
  needed=$(readelf -d "$tmp/$prog" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  [ -n "$needed" ] || fail "$prog: readelf finds no NEEDED libraries"
  cache=$(ldconfig -p)
  for lib in $needed; do
    path=$(awk -v l="$lib" '$1 == l && /x86-64/ {print $NF}' <<<"$cache" | sed -n 1p)
    [ -n "$path" ] || fail "$prog needs $lib, which ldconfig does not know"
    owner=$(owner_of "$path") || fail "no host package holds $path ($lib)"
    has_dep "$owner" || fail "$prog needs $lib ($owner), not in Depends: $depends"
  done
done
info=$(dpkg-deb -I "$deb")
grep -q "^ Depends: .*fuse3" <<<"$info" || fail "dpkg-deb -I shows no Depends with fuse3"

# --- The maintainer scripts: POSIX sh, set -e, executable.
control=$tmp/control
dpkg-deb -e "$deb" "$control"
for script in postinst prerm postrm; do
  [ -f "$control/$script" ] || fail "no $script"
  [ "$(stat -c %a "$control/$script")" = 755 ] || fail "$script mode $(stat -c %a "$control/$script")"
  [ "$(sed -n 1p "$control/$script")" = '#!/bin/sh' ] || fail "$script is not #!/bin/sh"
  grep -qx 'set -e' "$control/$script" || fail "$script has no set -e"
  if command -v dash >/dev/null; then dash -n "$control/$script" || fail "$script: dash -n"; fi
done

# --- The scripts where systemd runs: in a private mount namespace whose /run
# is a fresh tmpfs holding /run/systemd/system, with a systemctl that only
# logs its arguments (is-active answers $FAKE_ACTIVE). Nothing reaches the
# host's systemd or /run.
if command -v unshare >/dev/null; then
  echo "==> the maintainer scripts where systemd runs (fake systemctl)"
  mkdir "$tmp/fake"
  cat >"$tmp/fake/systemctl" <<'FAKE'
#!/bin/sh
echo "systemctl $*" >>"$FAKE_LOG"
[ "$1" != is-active ] || exit "$FAKE_ACTIVE"
FAKE
  chmod 755 "$tmp/fake/systemctl"
  # run_script ACTIVE SCRIPT ARGS...: the systemctl calls, one a line.
  run_script() {
    local active=$1 script=$2
    shift 2
    : >"$tmp/fake.log"
    # shellcheck disable=SC2016 # expanded by the inner sh
    FAKE_LOG=$tmp/fake.log FAKE_ACTIVE=$active PATH="$tmp/fake:$PATH" unshare --mount sh -c \
      'mount -t tmpfs none /run && mkdir -p /run/systemd/system && exec sh "$0" "$@"' \
      "$control/$script" "$@" >/dev/null 2>&1 || fail "$script $* failed with systemd running"
    cat "$tmp/fake.log"
  }
  expect_calls() {
    local got=$1 want=$2 what=$3
    [ "$got" = "$want" ] || fail "$what: systemctl calls
$got
expected
$want"
  }
  expect_calls "$(run_script 3 postinst configure)" "systemctl daemon-reload
systemctl enable syscgfs.service
systemctl start syscgfs.service" "postinst configure (a new install)"
  expect_calls "$(run_script 0 postinst configure 0.0.9)" "systemctl daemon-reload
systemctl enable syscgfs.service
systemctl is-active --quiet syscgfs.service
systemctl restart syscgfs.service" "postinst configure 0.0.9 (an upgrade, the daemon running: restarted through the fd store)"
  expect_calls "$(run_script 3 postinst configure 0.0.9)" "systemctl daemon-reload
systemctl enable syscgfs.service
systemctl is-active --quiet syscgfs.service
systemctl start syscgfs.service" "postinst configure 0.0.9 (an upgrade, the daemon stopped)"
  expect_calls "$(run_script 0 prerm remove)" "systemctl stop syscgfs.service
systemctl disable syscgfs.service" "prerm remove"
  expect_calls "$(run_script 0 prerm upgrade 0.1.1)" "" "prerm upgrade"
  expect_calls "$(run_script 0 postrm remove)" "systemctl daemon-reload" "postrm remove"
  # With DPKG_ROOT set (chrootless into another root), never the host's systemd.
  expect_calls "$(DPKG_ROOT=$tmp/elsewhere run_script 3 postinst configure)" "" "postinst with DPKG_ROOT"
else
  echo "    (no unshare: the scripts' systemd branch is not run)"
fi

# --- Exactly these entries, with these modes and owners (dpkg-deb -c, the
# date, time and size left out). README "Installing as a Debian package".
expected="drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/syscg
-rwxr-xr-x root/root ./usr/bin/syscgfs
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/systemd/
drwxr-xr-x root/root ./usr/lib/systemd/system/
-rw-r--r-- root/root ./usr/lib/systemd/system/syscgfs.service
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/syscg/
-rw-r--r-- root/root ./usr/share/doc/syscg/README.md
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man1/
-rw-r--r-- root/root ./usr/share/man/man1/syscg.1.gz
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/syscgfs.8.gz
drwxr-xr-x root/root ./var/
drwxr-xr-x root/root ./var/lib/
drwx------ root/root ./var/lib/syscg/"
# The example unit comes with the systemd work (scripts/systemd).
if [ -f "$src/scripts/systemd/syscg-example-web.service" ]; then
  expected+="
drwxr-xr-x root/root ./usr/share/doc/syscg/examples/
-rw-r--r-- root/root ./usr/share/doc/syscg/examples/syscg-example-web.service"
fi
actual=$(dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | sort)
if [ "$actual" != "$(echo "$expected" | sort)" ]; then
  diff <(echo "$expected" | sort) <(echo "$actual") || true
  fail "dpkg-deb -c differs from the expected list (- expected, + actual)"
fi

# --- Install into a clean root, check, purge; $1: chrootless or chroot.
new_root() {
  local root=$1
  # dpkg 1.21 makes what it lacks below var/lib/dpkg; older versions need these.
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
  : >"$root/var/lib/dpkg/status"
  : >"$root/var/lib/dpkg/available"
}
in_root_dpkg() {
  local root=$1
  shift
  # --log: dpkg.cfg's log is the host's /var/log/dpkg.log.
  dpkg --root="$root" --log="$root/var/log/dpkg.log" --force-depends "$@"
}
check_installed() {
  local root=$1
  local status
  status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' syscg)
  [ "$status" = "install ok installed" ] || fail "dpkg status in the root: $status"
  local want=(755:usr/bin/syscgfs 755:usr/bin/syscg 644:usr/lib/systemd/system/syscgfs.service
    644:usr/share/man/man8/syscgfs.8.gz 644:usr/share/man/man1/syscg.1.gz 644:usr/share/doc/syscg/README.md
    700:var/lib/syscg)
  for w in "${want[@]}"; do
    local mode=${w%%:*} path=${w#*:}
    [ -e "$root/$path" ] || fail "/$path was not installed"
    [ "$(stat -c '%a %U %G' "$root/$path")" = "$mode root root" ] ||
      fail "/$path: $(stat -c '%a %U %G' "$root/$path"), expected $mode root root"
  done
  [ "$(dpkg-query --admindir="$root/var/lib/dpkg" -L syscg | grep -c .)" -ge ${#want[@]} ] || fail "dpkg -L lists too little"
  # The programs run from the root with the host's libraries.
  local out
  out=$("$root/usr/bin/syscgfs" --version) || fail "syscgfs --version failed: $out"
  grep -qx "syscgfs 0.1.0" <<<"$out" || fail "syscgfs --version: $out"
  out=$("$root/usr/bin/syscg" --help) || fail "syscg --help failed: $out"
  grep -q "^  exec " <<<"$out" || fail "syscg --help: $out"
  grep -q '^ExecStart=/usr/bin/syscgfs ' "$root/usr/lib/systemd/system/syscgfs.service" ||
    fail "the unit's ExecStart: $(grep ExecStart= "$root/usr/lib/systemd/system/syscgfs.service")"
  for page in man8/syscgfs.8 man1/syscg.1; do
    local warnings
    warnings=$(gzip -dc "$root/usr/share/man/$page.gz" | groff -man -Tutf8 -ww -z 2>&1)
    [ -z "$warnings" ] || fail "$page: $warnings"
  done
}
check_purged() {
  local root=$1
  local status
  status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' syscg 2>/dev/null || true)
  case $status in "" | "unknown ok not-installed" | "purge ok not-installed") ;; *) fail "after purge: $status" ;; esac
  local left
  left=$(cd "$root" && { find usr var/lib/syscg -not -type d 2>/dev/null || true; })
  [ -z "$left" ] || fail "left after purge: $left"
  [ ! -e "$root/var/lib/syscg" ] || fail "/var/lib/syscg is left after purge"
}

echo "==> dpkg --root, scripts chrootless (no shell in the root)"
root=$tmp/root-chrootless
new_root "$root"
in_root_dpkg "$root" --force-script-chrootless -i "$deb" >"$tmp/dpkg.log" 2>&1 || {
  cat "$tmp/dpkg.log"
  fail "dpkg -i (chrootless) failed"
}
check_installed "$root"
: >"$root/var/lib/syscg/state.db"  # what the daemon leaves: purge removes it
in_root_dpkg "$root" --force-script-chrootless --purge syscg >"$tmp/dpkg.log" 2>&1 || {
  cat "$tmp/dpkg.log"
  fail "dpkg --purge (chrootless) failed"
}
check_purged "$root"

if command -v busybox >/dev/null && grep -qx sh <<<"$(busybox --list)" &&
  ! grep -q NEEDED <<<"$(readelf -d "$(command -v busybox)")"; then
  echo "==> dpkg --root, scripts chrooted (a busybox root: no systemctl)"
  root=$tmp/root-chroot
  new_root "$root"
  mkdir -p "$root/bin" "$root/run" "$root/tmp"
  cp "$(command -v busybox)" "$root/bin/busybox"
  chroot "$root" /bin/busybox --install -s /bin
  in_root_dpkg "$root" -i "$deb" >"$tmp/dpkg.log" 2>&1 || {
    cat "$tmp/dpkg.log"
    fail "dpkg -i (chroot) failed"
  }
  check_installed "$root"
  : >"$root/var/lib/syscg/state.db"
  in_root_dpkg "$root" --purge syscg >"$tmp/dpkg.log" 2>&1 || {
    cat "$tmp/dpkg.log"
    fail "dpkg --purge (chroot) failed"
  }
  check_purged "$root"
else
  echo "    (no static busybox: the chrooted pass is skipped; scripts/common.sh installs busybox-static)"
fi
echo "==> the package builds, holds the expected files and installs into a clean root"
