#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine and debootstrap is installed.
# There is no systemd here: dockerd is started in the background when none answers.
set -euo pipefail

log_dir="${LAB_STATE:-$(cd "$(dirname "$0")/.." && pwd)/.build/lab}"
mkdir -p "$log_dir"

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "lab: installing ${need[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "lab: starting dockerd (log: $log_dir/dockerd.log)"
  nohup dockerd >"$log_dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "lab: the Docker engine did not answer within 60 s" >&2; exit 1; }
echo "lab: Docker engine $(docker version --format '{{.Server.Version}}') answers"
