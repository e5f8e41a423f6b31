#!/usr/bin/env bash
# The README's quick start on a truly fresh machine: a minimal Debian root made with debootstrap
# (git, make, python3, python3-venv and nothing else), the repository cloned into /root (mode 700,
# as on Debian), then `make demo` and `make test` run there as root through chroot. The machine's
# hostname does not resolve inside (its /etc/hosts knows only localhost), as in many containers.
#
# The pristine root is cached in $FRESH_CACHE and copied anew for every run; pip's wheel cache and
# Maven's repository and npm's cache are shared with the host to save downloads (the installs
# still run). CI is passed in: there, a missing test tool fails a test instead of skipping it.
# Needs root. Usage: scripts/fresh_machine_check.sh [demo|test|both]   (default: both)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
WHAT=${1:-both}
CACHE=${FRESH_CACHE:-/var/cache/tweetpipe-fresh}
SUITE=${FRESH_SUITE:-bookworm}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
BASE=$CACHE/base-$SUITE
ROOT=$CACHE/run-$$
log() { echo "fresh-machine: $*"; }

[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; }
if [ ! -f "$BASE/.complete" ]; then
  log "building a minimal Debian $SUITE root in $BASE (cached for later runs)"
  rm -rf "$BASE"
  debootstrap --variant=minbase --include=git,make,python3,python3-venv,ca-certificates \
    "$SUITE" "$BASE" "$MIRROR" > "$CACHE.debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE.debootstrap.log" >&2; exit 1; }
  touch "$BASE/.complete"
fi

mounts=()
cleanup() {
  set +e
  if [ -x "$ROOT/root/tweetpipe/.venv/bin/tweetpipe" ]; then
    chroot "$ROOT" /bin/bash -c 'cd /root/tweetpipe && .venv/bin/tweetpipe services down' \
      >/dev/null 2>&1
  fi
  # anything still running from inside the root (a test's leftover) is ended
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "$pid" 2>/dev/null
  done
  for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null; done
  rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT INT TERM
bind() {  # bind SOURCE TARGET-inside-root
  mkdir -p "$1" "$ROOT$2"
  mount --bind "$1" "$ROOT$2"
  mounts+=("$ROOT$2")
}

log "copying the pristine root to $ROOT"
cp -a "$BASE" "$ROOT"
mount -t proc proc "$ROOT/proc"; mounts+=("$ROOT/proc")
bind /dev /dev
bind /dev/pts /dev/pts
bind /sys /sys
bind /root/.cache/pip /root/.cache/pip
bind /root/.m2 /root/.m2
bind /root/.npm /root/.npm
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The network's own certificate authorities (e.g. a TLS-inspecting proxy in front of PyPI and
# Maven Central) are trusted in the root too, as on any machine of that network.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1
fi
chmod 700 "$ROOT/root"
git clone -q "$REPO" "$ROOT/root/tweetpipe"
# the clone gets what the checkout has on disk but git does not track (nothing, in CI)
log "hostname $(hostname) resolves inside: $(chroot "$ROOT" getent hosts "$(hostname)" >/dev/null \
  && echo yes || echo no)"

run() {  # run NAME COMMAND: inside the root, as a fresh login would
  local started=$SECONDS
  log "$1: $2 (in /root/tweetpipe)"
  if chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /bin/bash -c "cd /root/tweetpipe && $2"; then
    log "$1 passed in $((SECONDS - started))s"
  else
    log "$1 FAILED after $((SECONDS - started))s"
    return 1
  fi
}

taken=()
for port in 5432 9092; do  # the demo's default addresses: on a fresh machine nothing is there
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && taken+=("$port")
done
if [ ${#taken[@]} -gt 0 ] && [ "$WHAT" != test ]; then
  log "something already listens on 127.0.0.1 port(s) ${taken[*]}: the demo would use it" \
      "instead of starting its own; stop it (e.g. \`tweetpipe services down\`) and run again"
  exit 1
fi

case $WHAT in
  demo) run demo "make demo" ;;
  test) run test "make test" ;;
  both) run demo "make demo" && run test "make test" ;;
  *) echo "usage: $0 [demo|test|both]" >&2; exit 2 ;;
esac
