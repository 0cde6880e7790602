#!/bin/sh
# Make a Debian 12 base image from Debian's packages, for hosts that reach Debian's mirrors but
# no container registry:  sh deploy/container/debian-base.sh [IMAGE]   (as root; needs
# debootstrap and podman). Then build with --build-arg BASE=IMAGE (docs/operations.md).
set -eu
image=${1:-localhost/debian-bookworm:base}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
tar -C "$root" -c . | podman import - "$image"
echo "$image"
