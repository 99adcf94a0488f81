package azure

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// The instance's application secret reaches its VM in the protected
// settings of the Custom Script extension, never in customData: the
// Compute spec says customData must hold no secret, and it cannot change.
// Azure encrypts protected settings with the VM's certificate, decrypts them
// only on the VM and never returns them; an extension can be written again,
// so the secret is delivered anew, a new one, at every Start. The script
// writes it where the VM's applications read it as it changes (Jupyter at
// each request, the proxy before RStudio once reloaded).
const (
	secretExtensionName   = "instancehub-secret"
	customScriptPublisher = "Microsoft.Azure.Extensions"
	customScriptType      = "CustomScript"
	customScriptVersion   = "2.1"
)

// SecretFile is where the VM keeps the instance's application secret,
// readable by root and the owner's account.
const SecretFile = "/etc/instancehub/secret"

// jupyterConfigFile is Jupyter's configuration on the VM.
const jupyterConfigFile = "/etc/instancehub/jupyter_server_config.py"

// proxySecretFile holds the proxy's test of the secret (see ProxySecret).
const proxySecretFile = "/etc/instancehub/proxy-secret.conf"

// validSecret is what instancehub.NewAppSecret makes: base64url, 256 bits.
// The script and the proxy's configuration quote it, so nothing else may be
// sent.
var validSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{32,128}$`)

// secretExtension is the extension that delivers inst's secret.
func (c *Cloud) secretExtension(inst *instancehub.Instance) (armcompute.VirtualMachineExtension, error) {
	script, err := SecretScript(inst.AppSecret)
	if err != nil {
		return armcompute.VirtualMachineExtension{}, err
	}
	return c.customScript(inst, script), nil
}

// customScript is the Custom Script extension (the one a Linux VM may
// have) that runs script as root on inst's VM: the secret's delivery, or
// a setup script's wrapper. The script travels in the protected settings,
// never in customData; the public settings carry the time, so that every
// delivery runs it again, the same script included.
func (c *Cloud) customScript(inst *instancehub.Instance, script string) armcompute.VirtualMachineExtension {
	return armcompute.VirtualMachineExtension{
		Location: to.Ptr(inst.Region),
		Tags:     c.tags(inst),
		Properties: &armcompute.VirtualMachineExtensionProperties{
			Publisher:               to.Ptr(customScriptPublisher),
			Type:                    to.Ptr(customScriptType),
			TypeHandlerVersion:      to.Ptr(customScriptVersion),
			AutoUpgradeMinorVersion: to.Ptr(true),
			Settings:                map[string]any{"timestamp": c.cfg.Now().Unix()},
			ProtectedSettings:       map[string]any{"script": base64.StdEncoding.EncodeToString([]byte(script))},
		},
	}
}

// SecretScript is the script the Custom Script extension runs as root on
// the VM: it writes Jupyter's configuration (which reads the secret file,
// so that a VM made before the secret moved here follows it too), the
// proxy's test of the secret, then the secret itself, each file replaced
// whole; then it reloads the proxy. Jupyter starts once the secret exists
// (instancehub-jupyter.path). INSTANCEHUB_ROOT, unset on the VM, lets a test
// run it in a folder of its own.
func SecretScript(secret string) (string, error) {
	if !validSecret.MatchString(secret) {
		return "", instancehub.Errorf(instancehub.EINTERNAL, "The instance's application secret is missing or malformed; it cannot be sent to its VM.")
	}
	return strings.NewReplacer(
		"@SECRET@", secret,
		"@USER@", instancehub.SSHUser,
		"@SECRET_FILE@", SecretFile,
		"@PROXY_SECRET_FILE@", proxySecretFile,
		"@JUPYTER_CONFIG_FILE@", jupyterConfigFile,
		"@PROXY_SECRET@", ProxySecret(secret),
		"@JUPYTER_CONFIG@", JupyterConfig(SecretFile),
	).Replace(secretScript), nil
}

const secretScript = `#!/bin/sh
# instancehub: the instance's application secret, from the portal.
set -eu
umask 077
root="${INSTANCEHUB_ROOT:-}"
mkdir -p "$root/etc/instancehub"
chmod 0755 "$root/etc/instancehub"

# put FILE MODE OWNER: what comes in becomes FILE, replaced whole; changed
# says whether FILE held something else. (Called as a plain command, so that
# set -e stops the script at any failure inside.)
put() {
	tmp=$(mktemp "$root/etc/instancehub/.new.XXXXXX")
	cat >"$tmp"
	changed=0
	if ! cmp -s "$tmp" "$root$1"; then
		chmod "$2" "$tmp"
		chown "$3" "$tmp"
		mv -f "$tmp" "$root$1"
		changed=1
	fi
	rm -f "$tmp"
}

put @JUPYTER_CONFIG_FILE@ 0644 root:root <<'INSTANCEHUB_EOF'
@JUPYTER_CONFIG@
INSTANCEHUB_EOF
if [ "$changed" = 1 ]; then
	systemctl try-restart instancehub-jupyter.service || true
fi
put @PROXY_SECRET_FILE@ 0600 root:root <<'INSTANCEHUB_EOF'
@PROXY_SECRET@
INSTANCEHUB_EOF
put @SECRET_FILE@ 0640 root:@USER@ <<'INSTANCEHUB_EOF'
@SECRET@
INSTANCEHUB_EOF
systemctl try-reload-or-restart nginx.service || true
`

// ProxySecret is the entry of the proxy's map from the Authorization
// header to $instancehub_secret (see the proxy's configuration): the
// gateway's header, and no other, maps to 1. It is a regular expression,
// matched case-sensitively, because nginx matches a map's plain strings
// ignoring case; the secret holds nothing a regular expression reads as
// other than itself (validSecret).
func ProxySecret(secret string) string {
	quoted, _ := json.Marshal("~^token " + secret + "$") // nginx reads a double-quoted string as JSON writes this one
	return fmt.Sprintf("%s 1;", quoted)
}

// JupyterConfig is the Jupyter Server configuration that makes the gateway
// the only way in: a request is signed in when it carries the instance's
// secret, read from secretFile, in its Authorization header, as the gateway
// sends it. The file is read again whenever it changes, since the secret
// changes at every Start; while it is missing or empty, nobody is signed
// in. Jupyter's own token stays empty, because JupyterLab writes its token
// into the page config of every page, where any notebook's script could
// read the secret. A request signed in so skips Jupyter's origin and XSRF
// checks, as a token's would: the gateway refuses foreign origins and
// cross-origin writes itself. Jupyter Server 2 (the Data Science VM's)
// takes an identity provider; Jupyter Server 1 a login handler, kept for
// older images.
func JupyterConfig(secretFile string) string {
	quoted, _ := json.Marshal(secretFile) // a valid Python string literal
	return strings.Replace(jupyterConfig, "@SECRET_FILE@", string(quoted), 1)
}

const jupyterConfig = `import hmac
import os

_SECRET_FILE = @SECRET_FILE@
_read = {"stamp": None, "secret": b""}


def _secret():
    try:
        st = os.stat(_SECRET_FILE)
    except OSError:
        return b""
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    if stamp != _read["stamp"]:
        with open(_SECRET_FILE, "rb") as f:
            _read["secret"] = f.read().strip()
        _read["stamp"] = stamp
    return _read["secret"]


def _from_gateway(handler):
    secret = _secret()
    if not secret:
        return False
    sent = handler.request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(sent, b"token " + secret)


try:
    from jupyter_server.auth.identity import IdentityProvider, User
except ImportError:  # Jupyter Server 1
    from jupyter_server.auth.login import LoginHandler

    class GatewayLogin(LoginHandler):
        @classmethod
        def get_user(cls, handler):
            if _from_gateway(handler):
                handler._token_authenticated = True
                return "owner"
            return None

        @classmethod
        def get_login_available(cls, settings):
            return True

    c.ServerApp.login_handler_class = GatewayLogin
else:

    class GatewayIdentity(IdentityProvider):
        def get_user(self, handler):
            if _from_gateway(handler):
                handler._token_authenticated = True
                return User(username="owner")
            return None

    c.ServerApp.identity_provider_class = GatewayIdentity
    c.IdentityProvider.token = ""

c.ServerApp.token = ""
c.ServerApp.password = ""
`
