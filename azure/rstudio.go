package azure

import (
	"strings"

	"github.com/instancehub/instancehub"
)

// rstudioScriptFile runs RStudio's container on the VM (its unit's
// ExecStart).
const rstudioScriptFile = "/etc/instancehub/rstudio.sh"

// rstudioScript keeps RStudio's container running for the owner: the image
// pulled by digest (once: docker keeps it), after signing in to its
// registry with the registry's managed identity when one is configured (an
// Azure Container Registry's exchange of the identity's token for a
// registry token, as `az acr login` does), then run on loopback as the
// owner's account, whatever its IDs. Whatever fails (the registry, the pull,
// the container), it tries again after 30 s, doubling to 30 minutes, and
// from 30 s again once RStudio has run ten minutes: so many VMs do not
// hammer a registry that refuses them. image, registry and identity are
// checked references (no quote or space can be in them).
func rstudioScript(image imageRef, digest, identity string) string {
	return strings.NewReplacer(
		"@IMAGE@", image.pinned(digest),
		"@REGISTRY@", image.Registry,
		"@IDENTITY@", identity,
		"@USER@", instancehub.SSHUser,
		"@LOOPBACK@", rstudioLoopback,
	).Replace(rstudioShell)
}

const rstudioShell = `#!/bin/sh
# instancehub: RStudio Server for the instance's owner, on loopback only.
set -u
image='@IMAGE@'
registry='@REGISTRY@'
identity='@IDENTITY@'
user='@USER@'
delay=30

field() {
	python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# login signs docker in to the registry with the VM's managed identity.
login() {
	[ -n "$identity" ] || return 0
	token=$(curl -sfG --max-time 30 -H Metadata:true \
		--data-urlencode api-version=2018-02-01 \
		--data-urlencode resource=https://management.azure.com/ \
		--data-urlencode "msi_res_id=$identity" \
		http://169.254.169.254/metadata/identity/oauth2/token | field access_token) || return 1
	refresh=$(curl -sf --max-time 30 \
		--data-urlencode grant_type=access_token \
		--data-urlencode "service=$registry" \
		--data-urlencode "access_token=$token" \
		"https://$registry/oauth2/exchange" | field refresh_token) || return 1
	printf '%s' "$refresh" | docker login "$registry" --username 00000000-0000-0000-0000-000000000000 --password-stdin >/dev/null
}

while :; do
	started=$(date +%s)
	if docker image inspect "$image" >/dev/null 2>&1 || { login && docker pull "$image"; }; then
		if uid=$(id -u "$user") && gid=$(id -g "$user"); then
			docker rm -f instancehub-rstudio >/dev/null 2>&1
			docker run --rm --name instancehub-rstudio -p 127.0.0.1:@LOOPBACK@:8787 \
				-e DISABLE_AUTH=true -e USERID="$uid" -e GROUPID="$gid" \
				-v "/home/$user:/home/rstudio" "$image"
		fi
	fi
	if [ $(($(date +%s) - started)) -ge 600 ]; then
		delay=30
	fi
	echo "instancehub-rstudio: RStudio is not running; trying again in $delay s" >&2
	sleep "$delay"
	delay=$((delay * 2))
	if [ "$delay" -gt 1800 ]; then
		delay=1800
	fi
done
`
