#!/usr/bin/env bash
# setup-docker-engine.sh: prepare a Debian 12 (bookworm) machine so that stackwiz can run
# `docker buildx bake` for real (integration tests, CI, fixture recording).
#
# It installs and starts, as root:
#   * Docker Engine >= 26 and containerd 1.7 from Debian 13 (trixie) .debs. Bookworm's own
#     docker.io 20.10 is too old for bake's `"contexts": {"parent": "target:<tier>"}`;
#   * runc, tini, iptables from bookworm (trixie's runc needs a newer glibc);
#   * the docker CLI (trixie docker-cli; trixie's docker.io no longer ships the client) and the
#     buildx plugin (trixie docker-buildx 0.13.1);
#   * a registry (bookworm docker-registry) on 127.0.0.1:5000 only, with delete enabled;
#   * a tiny base image `local/busybox:stable`, imported from busybox-static, because no public
#     image can be pulled on offline build machines.
#
# The trixie packages are downloaded without adding trixie to the system's apt sources.
# Idempotent: on a ready machine it only checks and prints the READY line (well under a second).
# Daemons started here run detached (setsid), with pid files; scripts/stop-docker-engine.sh
# stops them again.
#
# Usage:   sudo scripts/setup-docker-engine.sh
# Output:  READY engine=<dockerd version> buildx=<buildx version>   (stdout; progress on stderr)
# Env:     STACKWIZ_DOCKER_CACHE  cache/state dir (default /var/cache/stackwiz-docker): downloaded
#                                 .debs, daemon logs, pid files, registry storage.
# Exit:    0 when READY; non-zero with a message naming the failed step otherwise.
set -Eeuo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

prog=${0##*/}
work=${STACKWIZ_DOCKER_CACHE:-/var/cache/stackwiz-docker}
registry_addr=127.0.0.1:5000
base_image=local/busybox:stable
# applets the imported base image provides (test Dockerfiles rely on them)
applets='sh ls cat echo mkdir touch env dd head sleep rm cp test [ false true wc grep sed printf seq'
applets_label=io.stackwiz.busybox-applets

step=startup
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
trap 'rc=$?; say "ERROR: step \"$step\" failed (exit $rc, line $LINENO); logs are in $work"; exit $rc' ERR

# --- preconditions -----------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (uid 0), e.g. sudo $0"
[ -r /etc/os-release ] || die "cannot read /etc/os-release; only Debian 12 (bookworm) is supported"
os_id=$(. /etc/os-release && echo "${ID:-}")
os_ver=$(. /etc/os-release && echo "${VERSION_ID:-}")
[ "$os_id" = debian ] && [ "$os_ver" = 12 ] ||
  die "only Debian 12 (bookworm) is supported; this is ${os_id:-unknown} ${os_ver:-?}"
[ "$(dpkg --print-architecture)" = amd64 ] || [ "$(dpkg --print-architecture)" = arm64 ] ||
  die "unsupported architecture $(dpkg --print-architecture) (amd64 or arm64 only)"
mkdir -p "$work/run"

# --- helpers -----------------------------------------------------------------------------------
# major.minor of the first x.y.z in a version string, as a comparable integer (26.1 -> 26001)
vnum() { sed -nE 's/[^0-9]*([0-9]+)\.([0-9]+).*/\1 \2/p' | head -n1 | awk '{print $1*1000+$2}'; }
have_engine() { command -v dockerd >/dev/null && [ "$(dockerd --version | vnum)" -ge 26000 ]; }
have_containerd() { command -v containerd >/dev/null && [ "$(containerd --version | awk '{print $3}' | vnum)" -ge 1007 ]; }
have_cli() { command -v docker >/dev/null; }
have_buildx() { docker buildx version >/dev/null 2>&1; }
have_tools() { command -v docker-registry >/dev/null && command -v runc >/dev/null &&
  command -v curl >/dev/null && [ -x /bin/busybox ]; }
engine_up() { docker info >/dev/null 2>&1; }
registry_up() { curl -fsS --max-time 2 "http://$registry_addr/v2/" >/dev/null 2>&1; }
wait_up() { # wait_up PID SECONDS CMD...: until CMD succeeds; fails early when PID exits
  local pid=$1 n=$2; shift 2
  for _ in $(seq "$((n * 4))"); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { "$@"; return; }
    sleep 0.25
  done
  "$@"
}

# --- 1. packages -------------------------------------------------------------------------------
if ! have_engine || ! have_containerd || ! have_cli || ! have_buildx || ! have_tools; then
  step="apt-get update (bookworm)"
  say "installing packages (first run; this downloads ~100 MB)"
  apt-get update -qq
  step="install bookworm packages (runc, tini, iptables, docker-registry, busybox-static, curl)"
  need=()
  for p in runc tini iptables docker-registry busybox-static curl ca-certificates; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi

  # trixie .debs, fetched with a private apt state so the system's sources stay untouched
  t=$work/trixie
  mkdir -p "$t/lists" "$t/cache/archives/partial" "$t/debs"
  pkgs=(containerd docker.io docker-cli docker-buildx)
  missing=()
  for p in "${pkgs[@]}"; do compgen -G "$t/debs/${p}_*.deb" >/dev/null || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    step="download trixie packages (${missing[*]})"
    echo 'deb http://deb.debian.org/debian trixie main' >"$t/sources.list"
    o=(-o Dir::Etc::SourceList="$t/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o Dir::State::Lists="$t/lists" -o Dir::Cache="$t/cache")
    apt-get "${o[@]}" update -qq
    # the _apt sandbox user cannot write into an arbitrary cache dir; download as root
    (cd "$t/debs" && apt-get "${o[@]}" -o APT::Sandbox::User=root download "${missing[@]}" >/dev/null)
  fi
  step="install trixie packages (containerd, docker.io, docker-cli, docker-buildx)"
  debs=()
  for p in "${pkgs[@]}"; do
    f=$(ls -1 "$t/debs/${p}"_*.deb | sort -V | tail -n1)
    debs+=("$f")
  done
  # apt (not dpkg -i) so that dependencies are resolved from bookworm and a failure is reported
  apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
  step="check installed versions"
  have_engine || die "dockerd >= 26 not found after install ($(dockerd --version 2>&1 || true))"
  have_containerd || die "containerd >= 1.7 not found after install ($(containerd --version 2>&1 || true))"
  have_cli || die "no docker CLI on PATH after install"
  have_buildx || die "docker buildx does not work after install: $(docker buildx version 2>&1 || true)"
  have_tools || die "docker-registry, runc, curl or /bin/busybox missing after install"
fi

# --- 2. dockerd (with the containerd it manages) -------------------------------------------------
if ! engine_up; then
  step="start dockerd"
  say "starting dockerd (log: $work/dockerd.log)"
  setsid dockerd >"$work/dockerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$work/run/dockerd.pid"
  if ! wait_up "$pid" 60 engine_up; then
    tail -n 20 "$work/dockerd.log" >&2 || true
    die "dockerd did not come up (exited, or not answering after 60 s); see $work/dockerd.log"
  fi
fi
step="check the running engine"
server=$(docker version --format '{{.Server.Version}}')
[ "$(echo "$server" | vnum)" -ge 26000 ] ||
  die "a Docker Engine $server is already running; >= 26 is needed (stop it and re-run)"

# --- 3. registry on loopback --------------------------------------------------------------------
if ! registry_up; then
  step="start registry on $registry_addr"
  mkdir -p "$work/registry"
  cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: $registry_addr
YML
  say "starting registry on $registry_addr (log: $work/registry.log)"
  setsid docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$work/run/registry.pid"
  if ! wait_up "$pid" 30 registry_up; then
    tail -n 20 "$work/registry.log" >&2 || true
    die "registry did not answer on http://$registry_addr/v2/ (exited, or not after 30 s); is the port taken?"
  fi
fi

# --- 4. base image --------------------------------------------------------------------------------
if [ "$(docker image inspect -f "{{index .Config.Labels \"$applets_label\"}}" "$base_image" 2>/dev/null)" != "$applets" ]; then
  step="import $base_image"
  say "importing $base_image from $(readlink -f /bin/busybox)"
  r=$(mktemp -d)
  mkdir -p "$r/bin" "$r/tmp" "$r/etc" "$r/root"
  chmod 1777 "$r/tmp"
  cp /bin/busybox "$r/bin/busybox"
  for a in $applets; do ln -sf busybox "$r/bin/$a"; done
  # deterministic layer: sorted names, fixed mtime and owners
  tar -C "$r" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c . |
    docker import \
      --change "LABEL $applets_label=\"$applets\"" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["sh"]' \
      - "$base_image" >/dev/null
  rm -rf "$r"
  step="smoke-test $base_image (runc)"
  out=$(docker run --rm --network none "$base_image" sh -c 'seq 3 | wc -l | grep -q 3 && printf ok')
  [ "$out" = ok ] || die "smoke test of $base_image printed '$out' instead of 'ok'"
fi

step="report"
echo "READY engine=$server buildx=$(docker buildx version | awk '{print $2}')"
