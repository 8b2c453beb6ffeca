#!/usr/bin/env bash
# Build the Debian trixie base image of the lab with debootstrap, once.
# Cached twice: as the image tag (seconds when present) and as a rootfs tarball under
# .cache/lab/ (an engine that lost its images re-imports it without debootstrap).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
image="${LAB_BASE_IMAGE:-gonka-lab/trixie:base}"
cache="$root/.cache/lab"
tarball="$cache/trixie-base.tar"
packages="python3,sudo,systemd,systemd-sysv,dbus,iproute2,ca-certificates,openssh-server,procps,curl"
mirror="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "lab: base image $image is cached"
  exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  echo "lab: debootstrap trixie into $rootfs (a few minutes, once)"
  debootstrap --variant=minbase --include="$packages" trixie "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
fi
docker import "$tarball" "$image" >/dev/null
echo "lab: base image $image imported from $tarball"
