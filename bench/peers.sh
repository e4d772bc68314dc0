#!/usr/bin/env bash
# make bench-peers: edgepix next to nginx (hit path), libvips'
# vipsthumbnail (miss path) and, with IMGPROXY_BIN=/path/to/imgproxy,
# imgproxy, on loopback; prints markdown tables (bench/README.md).
# Installs nginx, wrk and libvips-tools from Debian when they are missing
# (as root), builds edgepix and runs bench/cmd/peers with the arguments
# given (e.g. -reps 5, -only WebP, -skip-miss; see -h).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v vipsthumbnail >/dev/null || need+=(libvips-tools)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
export PATH="$PATH:/usr/sbin"
make build
exec go run -tags nodynamic ./bench/cmd/peers -bin bin/edgepix "$@"
