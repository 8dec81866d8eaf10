#!/usr/bin/env bash
# examples/tls/nginx-tls.sh DIR HTTPS_PORT [H2C_PORT [WORKERS [KEY [ADDR]]]]
#
# Writes into DIR a throwaway self-signed certificate and an nginx.conf for
# the protocol tests and scenarios, and prints the conf's path.  Start it
# with:  nginx -c DIR/nginx.conf -p DIR
#
#   HTTPS_PORT  TLS, HTTP/1.1 and HTTP/2 (ALPN) on ADDR
#   H2C_PORT    cleartext HTTP/2 with prior knowledge (h2c); 0 or absent: none
#   WORKERS     worker processes (default 1)
#   KEY         ec (default, P-256: cheap handshakes) or rsa (RSA-4096:
#               handshakes cost milliseconds of CPU, for the handshake-bound
#               scenario)
#   ADDR        the address both servers listen on (default 127.0.0.1; the
#               scenario suite gives its server namespace's)
#
# Locations: / and /index.html answer 200 from a small static file,
# /big a 256 KiB file, anything else 404.  The access log records
# "$status $request_length $ssl_protocol $server_protocol" per request, so
# tests can count what nginx served.
set -euo pipefail
dir=${1:?usage: nginx-tls.sh DIR HTTPS_PORT [H2C_PORT [WORKERS [KEY [ADDR]]]]}
https=${2:?HTTPS_PORT}
h2c=${3:-0}
workers=${4:-1}
key=${5:-ec}
addr=${6:-127.0.0.1}
mkdir -p "$dir/html" "$dir/logs"
dir=$(cd "$dir" && pwd)
case $key in
ec) keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
rsa) keyopt=(-newkey rsa:4096) ;;
*) echo "nginx-tls.sh: KEY is ec or rsa" >&2; exit 2 ;;
esac
if [ ! -f "$dir/cert.pem" ]; then
	openssl req -x509 "${keyopt[@]}" -nodes -days 2 -subj /CN=localhost \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
fi
printf 'hello from netprof tls example\n' > "$dir/html/index.html"
head -c 262144 /dev/zero | tr '\0' x > "$dir/html/big"
h2c_server=
if [ "$h2c" != 0 ]; then
	h2c_server="server { listen $addr:$h2c http2; root $dir/html; access_log $dir/logs/access.log np; }"
fi
# Every path here is absolute (under DIR): the conf works from any cwd.
cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    log_format np '\$status \$request_length \$ssl_protocol \$server_protocol';
    access_log $dir/logs/access.log np;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_requests 1000000;
    server {
        listen $addr:$https ssl http2;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        ssl_session_cache off;
        ssl_session_tickets off;
        root $dir/html;
    }
    $h2c_server
}
CONF
echo "$dir/nginx.conf"
