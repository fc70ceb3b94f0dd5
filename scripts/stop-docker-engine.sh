#!/usr/bin/env bash
# stop-docker-engine.sh: stop the daemons that scripts/setup-docker-engine.sh started: dockerd,
# the containerd that dockerd manages, and the registry on 127.0.0.1:5000.
#
# Only processes recorded in the setup's pid files are stopped (and only if the pid still runs
# the expected program), so a Docker Engine started some other way is left alone.
# Installed packages, images, the registry's storage and the download cache are kept; running
# setup-docker-engine.sh again restarts everything.
#
# Usage:   sudo scripts/stop-docker-engine.sh
# Env:     STACKWIZ_DOCKER_CACHE  same dir as for the setup (default /var/cache/stackwiz-docker)
set -euo pipefail

prog=${0##*/}
work=${STACKWIZ_DOCKER_CACHE:-/var/cache/stackwiz-docker}
run=$work/run
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

[ "$(id -u)" = 0 ] || { say "ERROR: must run as root (uid 0), e.g. sudo $0"; exit 1; }

# is pid $1 alive and running the program named $2?
pid_is() { [ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

# stop_pid NAME PID COMM: SIGTERM, wait up to 20 s, then SIGKILL
stop_pid() {
  local name=$1 pid=$2 comm=$3
  if ! pid_is "$pid" "$comm"; then
    say "$name: not running"
    return 0
  fi
  say "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do pid_is "$pid" "$comm" || { say "$name: stopped"; return 0; }; sleep 0.1; done
  say "$name: still running after 20 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 50); do pid_is "$pid" "$comm" || return 0; sleep 0.1; done
  say "ERROR: $name (pid $pid) did not stop"
  return 1
}

read_pid() { [ -r "$1" ] && tr -dc '0-9' <"$1" || true; }

status=0
if [ -r "$run/dockerd.pid" ]; then
  dpid=$(read_pid "$run/dockerd.pid")
  # the containerd that this dockerd manages (dockerd stops it itself on SIGTERM)
  cpid=""
  if pid_is "$dpid" dockerd; then cpid=$(read_pid /var/run/docker/containerd/containerd.pid); fi
  stop_pid dockerd "$dpid" dockerd || status=1
  if [ -n "$cpid" ] && pid_is "$cpid" containerd; then
    stop_pid containerd "$cpid" containerd || status=1
  fi
  [ "$status" != 0 ] || rm -f "$run/dockerd.pid"
else
  say "dockerd: not started by setup-docker-engine.sh (no $run/dockerd.pid), left alone"
fi

if [ -r "$run/registry.pid" ]; then
  stop_pid registry "$(read_pid "$run/registry.pid")" docker-registry || status=1
  [ "$status" != 0 ] || rm -f "$run/registry.pid"
else
  say "registry: not started by setup-docker-engine.sh (no $run/registry.pid), left alone"
fi
exit "$status"
