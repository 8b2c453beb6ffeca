#!/usr/bin/env bash
# The lab's ACME CA for molecule/default/verify-acme.yml, on the controller: Debian's pebble (a real
# ACME test server, DNS-01 validated through the DNS server below) and Debian's bind9, primary for
# the zone gonka.lab, which takes RFC 2136 updates of TXT records signed with a TSIG key.
#   lab/acme.sh start   config under .build/lab/acme (fresh zone, new TSIG key), both started
#   lab/acme.sh stop    both stopped (lab.py down runs it too)
# Ports on 127.0.0.1: pebble 14000 (ACME directory /dir) and 15000 (management: /roots/0 is the
# root of the certificates it issues, new at every start); bind 5353. Pebble's own HTTPS
# certificate comes from a CA made here (ca.pem): the client trusts it with SSL_CERT_FILE.
set -euo pipefail

state="${LAB_STATE:-$(cd "$(dirname "$0")/.." && pwd)/.build/lab}/acme"

stop() {
  for name in pebble named; do
    pid_file="$state/$name.pid"
    if [ -f "$pid_file" ]; then
      pid=$(cat "$pid_file")
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$pid_file"
    fi
  done
}

start() {
  stop
  need=()
  command -v pebble >/dev/null 2>&1 || need+=(pebble)
  command -v named >/dev/null 2>&1 || need+=(bind9)
  if [ ${#need[@]} -gt 0 ]; then
    echo "acme: installing ${need[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  rm -rf "$state"
  mkdir -p "$state/bind"
  chmod 0700 "$state"
  tsig-keygen -a hmac-sha256 gonka-lab-acme > "$state/tsig.key"
  cat > "$state/named.conf" <<CONF
options {
    directory "$state/bind";
    pid-file "$state/named.pid";
    session-keyfile "$state/bind/session.key";
    listen-on port 5353 { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
};
controls { };
include "$state/tsig.key";
zone "gonka.lab" {
    type primary;
    file "$state/bind/db.gonka.lab";
    update-policy { grant gonka-lab-acme zonesub TXT; };
};
CONF
  cat > "$state/bind/db.gonka.lab" <<'ZONE'
$TTL 60
@   IN SOA ns.gonka.lab. hostmaster.gonka.lab. ( 1 60 60 3600 60 )
    IN NS  ns.gonka.lab.
ns  IN A   127.0.0.1
ZONE
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=gonka lab pebble CA" \
    -keyout "$state/ca.key" -out "$state/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$state/pebble.key" -out "$state/pebble.csr" 2>/dev/null
  openssl x509 -req -in "$state/pebble.csr" -CA "$state/ca.pem" -CAkey "$state/ca.key" -CAcreateserial -days 30 \
    -out "$state/pebble.pem" \
    -extfile <(printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n") 2>/dev/null
  cat > "$state/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:14000", "managementListenAddress": "127.0.0.1:15000",
            "certificate": "$state/pebble.pem", "privateKey": "$state/pebble.key",
            "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  setsid nohup named -g -c "$state/named.conf" > "$state/named.log" 2>&1 < /dev/null &
  # no random waits before validations, no nonces refused on purpose: the test is about the collection
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    setsid nohup pebble -config "$state/pebble.json" -dnsserver 127.0.0.1:5353 > "$state/pebble.log" 2>&1 < /dev/null &
  echo $! > "$state/pebble.pid"
  for _ in $(seq 1 100); do
    if [ -f "$state/named.pid" ] && curl -sf --cacert "$state/ca.pem" https://127.0.0.1:14000/dir >/dev/null 2>&1; then
      echo "acme: pebble on https://127.0.0.1:14000/dir, bind for gonka.lab on 127.0.0.1:5353 ($state)"
      return 0
    fi
    sleep 0.1
  done
  echo "acme: pebble or bind did not start" >&2
  tail -n 20 "$state/named.log" "$state/pebble.log" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
