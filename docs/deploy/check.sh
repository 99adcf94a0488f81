#!/bin/bash
# check.sh validates the deployment files beside it with Debian's own tools,
# unprivileged, in a temporary directory (make check runs it):
#   nginx.conf          nginx -t, with a self-signed certificate for its names
#                       and its ports moved above 1024
#   Caddyfile           caddy validate, with the same certificate
#   instancehub.service systemd-analyze verify, with the drop-in azure.conf
#                       beside it, and a stand-in for the program
# Any warning fails the check as an error does.
set -euo pipefail
# Debian puts nginx in /usr/sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Two free ports for nginx's 80 and 443 (nginx -t binds its listeners).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$(shuf -i 20000-60000 -n 1)
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "no free port" >&2
	return 1
}
http_port=$(free_port)
https_port=$(free_port)
while [ "$https_port" = "$http_port" ]; do https_port=$(free_port); done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=portal.example.com -addext "subjectAltName=DNS:portal.example.com,DNS:*.apps.example.com" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
certs=(-e "s#/etc/ssl/instancehub/[a-z.]*\.pem#$tmp/cert.pem#" -e "s#/etc/ssl/instancehub/[a-z.]*\.key#$tmp/key.pem#")

# nginx: the site inside a main configuration whose every path is in $tmp.
ipv6=()
if [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	ipv6=(-e "s/listen \[::\]:80;/listen [::1]:$http_port;/" -e "s/listen \[::\]:443 /listen [::1]:$https_port /")
else
	ipv6=(-e "/listen \[::\]:/d")
fi
sed "${certs[@]}" "${ipv6[@]}" -e "s/listen 80;/listen 127.0.0.1:$http_port;/" -e "s/listen 443 /listen 127.0.0.1:$https_port /" \
	"$here/nginx.conf" >"$tmp/instancehub.conf"
mkdir "$tmp/nginx"
cat >"$tmp/nginx.conf" <<CONF
pid $tmp/nginx/nginx.pid;
error_log stderr;
events {}
http {
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    access_log off;
    include $tmp/instancehub.conf;
}
CONF
out=$(nginx -t -q -p "$tmp/nginx/" -c "$tmp/nginx.conf" 2>&1) || { echo "$out"; echo "nginx.conf: nginx -t failed"; exit 1; }
if [ -n "$out" ]; then echo "$out"; echo "nginx.conf: nginx -t warned"; exit 1; fi
echo "nginx.conf: nginx -t passed"

# Caddy: its data and configuration directories in $tmp too.
sed "${certs[@]}" "$here/Caddyfile" >"$tmp/Caddyfile"
out=$(HOME=$tmp XDG_DATA_HOME=$tmp/caddy XDG_CONFIG_HOME=$tmp/caddy caddy validate --config "$tmp/Caddyfile" --adapter caddyfile 2>&1) ||
	{ echo "$out"; echo "Caddyfile: caddy validate failed"; exit 1; }
warnings=$(grep '"level":"\(warn\|error\)"' <<<"$out" | grep -v '"msg":"stapling OCSP"' || true)
if [ -n "$warnings" ]; then echo "$warnings"; echo "Caddyfile: caddy validate warned"; exit 1; fi
if ! diff -u "$here/Caddyfile" <(caddy fmt "$here/Caddyfile"); then echo "Caddyfile: not as caddy fmt writes it"; exit 1; fi
echo "Caddyfile: caddy validate passed"

# systemd: the unit with its drop-in directory beside it, which verify reads,
# and a stand-in for the program, which verify wants executable.
mkdir "$tmp/systemd"
ln -s "$(type -P true)" "$tmp/systemd/instancehub"
sed "s#/usr/local/bin/instancehub#$tmp/systemd/instancehub#" "$here/instancehub.service" >"$tmp/systemd/instancehub.service"
for dropin in "" azure.conf; do
	rm -rf "$tmp/systemd/instancehub.service.d"
	if [ -n "$dropin" ]; then
		mkdir "$tmp/systemd/instancehub.service.d"
		cp "$here/instancehub.service.d/$dropin" "$tmp/systemd/instancehub.service.d/"
	fi
	out=$(systemd-analyze verify --man=no "$tmp/systemd/instancehub.service" 2>&1) ||
		{ echo "$out"; echo "instancehub.service${dropin:+ with $dropin}: systemd-analyze verify failed"; exit 1; }
	if [ -n "$out" ]; then echo "$out"; echo "instancehub.service${dropin:+ with $dropin}: systemd-analyze verify warned"; exit 1; fi
	echo "instancehub.service${dropin:+ with $dropin}: systemd-analyze verify passed"
done
