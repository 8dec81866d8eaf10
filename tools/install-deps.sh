#!/usr/bin/env bash
# Installs everything netprof needs to build, test and benchmark on Debian 12.
# Usage: tools/install-deps.sh        (run as root; idempotent)
# Set NETPROF_SKIP_DEPS=1 to skip (for machines prepared by hand).
set -euo pipefail
if [ "${NETPROF_SKIP_DEPS:-0}" = 1 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "tools/install-deps.sh: run as root (apt-get install)" >&2
  exit 1
fi
packages=(
  # build: compiler for BPF, bpftool for vmlinux.h and skeletons, libraries
  gcc clang llvm meson ninja-build pkg-config bpftool
  libbpf-dev libelf-dev libdw-dev libunwind-dev g++ zlib1g-dev libjson-c-dev
  libnl-3-dev libnl-route-3-dev libnl-idiag-3-dev
  # HTTP/2 header blocks: libnghttp2's HPACK inflater
  libnghttp2-dev
  # --format pprof: protobuf-c and its code generator (profile.proto -> C)
  libprotobuf-c-dev protobuf-c-compiler
  # the format check (tools/check_format.sh; .clang-format is tuned for version 14)
  clang-format
  # tests
  libcriterion-dev python3 python3-pytest python3-jsonschema iproute2 procps libcap2-bin valgrind util-linux
  # the pprof test's independent reader: protoc generates a Python module from profile.proto
  python3-protobuf protobuf-compiler
  # scenario suite (examples/scenarios): faults and the classic tools' view
  ethtool nftables coreutils
  # the HTML report's test: headless Chromium (driven over its DevTools pipe)
  chromium
  # demo and benchmarks: load generator, a third-party target, comparison tracers
  wrk nginx-light strace linux-perf bpftrace bc
  # the fixed-rate benchmark (overhead.sh): h2load, which paces requests and reports latency
  nghttp2-client
  # protocol tests: TLS certificates, the upstreams whose calls are labelled
  openssl libssl-dev redis-server postgresql
  # a gRPC service for the HTTP/2 test (examples/grpc/npgrpc.py)
  python3-grpcio
  # pre-forking servers for the whole-service test (tests/integration/test_prefork.py)
  gunicorn php-fpm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# nginx-light's package starts a system nginx on port 80; we never use it.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
fi
