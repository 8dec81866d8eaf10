#!/usr/bin/env bash
# app.cpu.tls: every request pays a full TLS handshake with an RSA-4096 key.
# nginx (one worker; examples/tls/nginx-tls.sh with KEY=rsa, no session
# cache, no tickets) serves https, and wrk sends "Connection: close", so each
# request opens a new connection and the worker signs its handshake with the
# 4096-bit key: milliseconds of CPU in libcrypto's RSA private-key code.
# Expected: app.cpu naming libcrypto, with the TLS advice (resumption,
# ECDSA certificates, keepalive).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=app.cpu.tls
SCN_TAG=tls
SCN_IDX=15
SCN_EXPECT=app.cpu
SCN_TARGET_KIND=nginx
SCN_SCHEME=https

scn_target() {
	local d=$SCN_TMP/nginx-tls
	command -v nginx >/dev/null || scn_die "nginx is not installed (tools/install-deps.sh)"
	command -v openssl >/dev/null || scn_die "openssl is not installed (tools/install-deps.sh)"
	bash "$SCN_TOP/examples/tls/nginx-tls.sh" "$d" "$SCN_PORT" 0 1 rsa "$SRV_IP" >/dev/null
	# The worker runs as an unprivileged user: it must read the files.
	chmod -R a+rX "$SCN_TMP"
	scn_run_nginx "$d/nginx.conf" "$d/logs/error.log"
	SCN_PATH=/
}

scn_load() {
	scn_wrk "$1" 8 -H "Connection: close"
}

scn_main "$@"
