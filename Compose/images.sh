#!/usr/bin/env bash
# Builds the mesh's images on this machine, with no image registry: a Debian bookworm base made by debootstrap
# from Debian's own packages and `docker import`ed, the mesh's executables built on the host (the same Debian
# release) copied onto it, and PostgreSQL's and Prometheus's images from the same base with Debian's packages.
#
#   bash Compose/images.sh [release|debug]
#
# Images: jiaxing-benefits/base:bookworm, postgres-base:bookworm and prometheus-base:bookworm (the bases, built
# once and kept), jiaxing-benefits/mesh:latest, jiaxing-benefits/postgres:15 and jiaxing-benefits/prometheus. A release build links Swift's
# runtime statically; a debug build (what CI's tests already built) carries the toolchain's runtime libraries.
#
# With a registry: MESH_IMAGE_SOURCE=registry takes the bases from debian:bookworm-slim and builds the
# executables inside swift:6.3-bookworm instead; everything after is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-release}
case "$configuration" in release | debug) ;; *) echo "usage: $0 [release|debug]" >&2; exit 2 ;; esac
source=${MESH_IMAGE_SOURCE:-debootstrap}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=jiaxing-benefits/base:bookworm
postgres_base=jiaxing-benefits/postgres-base:bookworm
runtime_packages=ca-certificates,libsqlite3-0,libstdc++6,libgcc-s1,zlib1g
postgres_packages=ca-certificates,postgresql-15
prometheus_base=jiaxing-benefits/prometheus-base:bookworm
prometheus_packages=ca-certificates,prometheus
executables=(mesh catalog eligibility disbursement notification gateway)

# A base image from Debian's packages: debootstrap into a folder, then `docker import`. Kept once built
# (MESH_IMAGE_REBUILD=1 makes it again).
make_base() {
  local name=$1 packages=$2
  if [ -z "${MESH_IMAGE_REBUILD:-}" ] && docker image inspect "$name" >/dev/null 2>&1; then
    echo "base $name: kept"
    return
  fi
  if [ "$source" = registry ]; then
    docker build -q -t "$name" --build-arg PACKAGES="${packages//,/ }" -f Compose/base.Dockerfile Compose
    return
  fi
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
  local rootfs
  rootfs=$(mktemp -d /tmp/mesh-rootfs.XXXXXX)
  echo "base $name: debootstrap of bookworm with $packages"
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" > "$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; exit 1; }
  # No package lists, caches or a cluster the package made for itself: the image's entrypoint makes its own.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/postgresql/15 "$rootfs"/etc/postgresql/15
  tar -C "$rootfs" -c . | docker import - "$name" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  echo "base $name: imported"
}

make_base "$base" "$runtime_packages"
make_base "$postgres_base" "$postgres_packages"
make_base "$prometheus_base" "$prometheus_packages"

# The executables. On the host: the same toolchain and Debian release as the base.
scratch=.build-compose
context=$scratch/context
if [ "$source" = registry ]; then
  docker run --rm -v "$PWD:/src" -w /src -e MESH_UNCHECKED_EXCLUSIVITY=1 swift:6.3-bookworm \
    swift build -c release --static-swift-stdlib --scratch-path "$scratch/build" >/dev/null
  products=$scratch/build/release
elif [ "$configuration" = release ]; then
  MESH_UNCHECKED_EXCLUSIVITY=1 swift build -c release --static-swift-stdlib --scratch-path "$scratch/build"
  products=$scratch/build/release
else
  swift build
  products=.build/debug
fi
rm -rf "$context"
mkdir -p "$context/bin" "$context/lib" "$context/mesh/Services/Catalog" "$context/mesh/Services/Notification" \
  "$context/mesh/Compose"
for executable in "${executables[@]}"; do
  cp "$products/$executable" "$context/bin/"
  strip --strip-debug "$context/bin/$executable"
done
# A debug build links Swift's runtime from the toolchain: the image carries those libraries.
ldd "$context"/bin/* | awk '/=> \// && $3 !~ /^\/(usr\/)?lib/ {print $3}' | sort -u | while read -r library; do
  cp -L "$library" "$context/lib/"
done
cp -r Services/Catalog/Data "$context/mesh/Services/Catalog/"
cp -r Services/Notification/Templates "$context/mesh/Services/Notification/"
cp -r Compose/demo "$context/mesh/Compose/"
cp Compose/Dockerfile "$context/"
docker build -q -t jiaxing-benefits/mesh:latest --build-arg BASE="$base" "$context" >/dev/null
docker build -q -t jiaxing-benefits/postgres:15 --build-arg BASE="$postgres_base" Compose/postgres >/dev/null
docker build -q -t jiaxing-benefits/prometheus:latest --build-arg BASE="$prometheus_base" Compose/prometheus >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^jiaxing-benefits/'
