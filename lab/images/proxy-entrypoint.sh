#!/bin/sh
# Stand-in for the real proxy's entrypoint.sh, on the points the collection relies on
# (docs/conformance.md R6.7): NGINX_MODE http | https | both (anything else: http); SERVER_NAME
# (default localhost); in https or both, nginx serves /etc/nginx/ssl/cert.pem and private.key on
# 443 (TLS 1.2 and 1.3) from the same server as 80. When nginx rejects that configuration (a
# certificate missing or not matching its key), `both` falls back to HTTP only, saying so in the
# log, and `https` exits. The certificate is read at start only: a new one needs a restart.
# Releases whose proxy has no HTTPS (launch) ignore NGINX_MODE (build argument PROXY_HTTPS).
set -eu
template=/etc/nginx/proxy-nginx.conf.template
mode=http
if [ "${PROXY_HTTPS}" = "True" ]; then
    case "${NGINX_MODE:-}" in
        http|https|both) mode=${NGINX_MODE} ;;
        *) echo "WARNING: Unknown NGINX_MODE='${NGINX_MODE:-}', defaulting to 'http'" ;;
    esac
fi
server_name=${SERVER_NAME:-localhost}

render() {
    listen=""
    ssl="# SSL disabled"
    if [ "$1" != https ]; then listen="listen 80;"; fi
    if [ "$1" != http ]; then
        listen="$listen listen 443 ssl;"
        ssl="ssl_certificate /etc/nginx/ssl/cert.pem; ssl_certificate_key /etc/nginx/ssl/private.key; ssl_protocols TLSv1.2 TLSv1.3;"
    fi
    sed -e "s|@LISTEN@|$listen|" -e "s|@SSL@|$ssl|" -e "s|@SERVER_NAME@|$server_name|" "$template" > /etc/nginx/nginx.conf
}

if [ "$mode" != http ] && { [ ! -f /etc/nginx/ssl/cert.pem ] || [ ! -f /etc/nginx/ssl/private.key ]; }; then
    echo "SSL enabled but certificates not found (no proxy-ssl in the lab); continuing"
fi
echo "Rendering nginx configuration (mode: $mode, server_name: $server_name)"
render "$mode"
if ! nginx -t; then
    if [ "$mode" = both ]; then
        echo "FALLBACK: Falling back to HTTP-only configuration"
        render http
        nginx -t
    else
        echo "ERROR: Nginx configuration is invalid and no fallback available"
        exit 1
    fi
fi
exec "$@"
