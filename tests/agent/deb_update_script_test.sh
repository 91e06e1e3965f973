#!/bin/sh
# debian/xiot-agent-update (the root side of the deb installer,
# docs/updates-installers.md) with the real dpkg-deb on tiny packages and a
# fake dpkg/dpkg-query in PATH that records `dpkg -i` and keeps the
# "installed" version in a file. Checks: no install without a way back, an
# install (marker before dpkg, previous kept), a rollback, a foreign package
# refused, a failing dpkg (marker removed, previous reinstalled).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
script=$src/debian/xiot-agent-update
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch=$(dpkg --print-architecture)
fails=0
check() {  # check WHAT COMMAND...
  what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}

mkdeb() {  # mkdeb PACKAGE VERSION OUT
  d=$work/build-$1-$2
  mkdir -p "$d/DEBIAN"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: t <t@example.org>\nDescription: test\n' \
    "$1" "$2" "$arch" > "$d/DEBIAN/control"
  dpkg-deb --root-owner-group --build "$d" "$3" >/dev/null
}
mkdeb xiot-agent 1.0 "$work/v1.deb"
mkdeb xiot-agent 2.0 "$work/v2.deb"
mkdeb evil-agent 2.0 "$work/evil.deb"

mkdir -p "$work/bin" "$work/stage" "$work/keep" "$work/archives"
real_dpkg=$(command -v dpkg)
cat > "$work/bin/dpkg" <<EOB
#!/bin/sh
if [ "\$1" = -i ]; then
  v=\$(dpkg-deb -f "\$2" Version)
  echo "dpkg -i \$v" >> "$work/dpkg.log"
  [ -f "$work/stage/trial" ] && echo "marker at dpkg: \$(cat "$work/stage/trial")" >> "$work/dpkg.log"
  [ "\${FAKE_DPKG_FAIL:-}" = "\$v" ] && exit 1
  echo "\$v" > "$work/installed"
  exit 0
fi
exec "$real_dpkg" "\$@"
EOB
printf '#!/bin/sh\ncat "%s/installed"\n' "$work" > "$work/bin/dpkg-query"
chmod 755 "$work/bin/dpkg" "$work/bin/dpkg-query"
echo 1.0 > "$work/installed"

run() {  # run ARG: the script as the unit runs it, output in $work/out
  PATH=$work/bin:$PATH XIOT_UPDATE_STAGE=$work/stage STATE_DIRECTORY=$work/keep XIOT_APT_ARCHIVES=$work/archives \
    "$script" "$1" > "$work/out" 2>&1
}
log() { cat "$work/dpkg.log" 2>/dev/null || true; }

# 1. No .deb of the installed version anywhere: refused, nothing run.
cp "$work/v2.deb" "$work/stage/staged.deb"
if run install; then r=0; else r=$?; fi
check "install without a way back exits 1" [ "$r" = 1 ]
check "says why" grep -q "no .deb of the installed version 1.0" "$work/out"
check "dpkg not run" [ -z "$(log)" ]
check "no marker" [ ! -e "$work/stage/trial" ]

# 2. apt's cache has 1.0: install 2.0.
cp "$work/v1.deb" "$work/archives/xiot-agent_1.0_$arch.deb"
if run install; then r=0; else r=$?; fi
check "install exits 0" [ "$r" = 0 ]
check "dpkg -i 2.0 with the marker already there" [ "$(log)" = "dpkg -i 2.0
marker at dpkg: 2.0 0" ]
check "marker names 2.0" [ "$(cat "$work/stage/trial")" = "2.0 0" ]
check "previous.deb is 1.0" [ "$(dpkg-deb -f "$work/keep/previous.deb" Version)" = 1.0 ]
check "current.deb is 2.0" [ "$(dpkg-deb -f "$work/keep/current.deb" Version)" = 2.0 ]
check "staged file consumed" [ ! -e "$work/stage/staged.deb" ]

# 3. Rollback: 1.0 again, marker gone.
rm -f "$work/dpkg.log"
if run rollback; then r=0; else r=$?; fi
check "rollback exits 0" [ "$r" = 0 ]
check "dpkg -i 1.0 without a marker" [ "$(log)" = "dpkg -i 1.0" ]
check "installed 1.0" [ "$(cat "$work/installed")" = 1.0 ]
check "current.deb is 1.0 again" [ "$(dpkg-deb -f "$work/keep/current.deb" Version)" = 1.0 ]

# 4. Another package: refused.
rm -f "$work/dpkg.log"
cp "$work/evil.deb" "$work/stage/staged.deb"
if run install; then r=0; else r=$?; fi
check "foreign package refused" [ "$r" = 1 ]
check "names the package" grep -q "package evil-agent, only xiot-agent" "$work/out"
check "dpkg not run for it" [ -z "$(log)" ]

# 5. dpkg fails on 2.0 (now with current.deb = 1.0 as the way back).
cp "$work/v2.deb" "$work/stage/staged.deb"
if FAKE_DPKG_FAIL=2.0 run install; then r=0; else r=$?; fi
check "failed dpkg exits 1" [ "$r" = 1 ]
check "previous reinstalled" [ "$(log)" = "dpkg -i 2.0
marker at dpkg: 2.0 0
dpkg -i 1.0" ]
check "marker removed" [ ! -e "$work/stage/trial" ]
check "still 1.0" [ "$(cat "$work/installed")" = 1.0 ]

# 6. The staging directory is the agent's: a link prepared there is not followed.
rm -f "$work/dpkg.log" "$work/stage/trial"
echo precious > "$work/precious"
ln -s "$work/precious" "$work/stage/trial"
mkdir -p "$work/somedir"
cp "$work/v2.deb" "$work/stage/staged.deb"
if run install; then r=0; else r=$?; fi
check "install over a planted marker link exits 0" [ "$r" = 0 ]
check "the link's target untouched" [ "$(cat "$work/precious")" = precious ]
check "the marker is a plain file now" sh -c "[ -f '$work/stage/trial' ] && [ ! -L '$work/stage/trial' ]"
rm -f "$work/stage/trial"
ln -s "$work/somedir" "$work/stage/trial"
echo 1.0 > "$work/installed"; cp "$work/v1.deb" "$work/keep/current.deb"
cp "$work/v2.deb" "$work/stage/staged.deb"
run install || true
check "nothing written into a directory the marker links to" [ -z "$(ls "$work/somedir")" ]
ln -sf "$work/v2.deb" "$work/stage/staged.deb"
if run install; then r=0; else r=$?; fi
check "a staged link is refused" [ "$r" = 1 ]

[ "$fails" = 0 ] || { echo "deb_update_script_test: $fails failed" >&2; exit 1; }
echo "deb_update_script_test: all passed"
