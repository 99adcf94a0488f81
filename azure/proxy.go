package azure

import "strings"

// RStudio Server in the rocker container has its login off, so that the
// portal's gateway signs the owner in; nothing on the VM would then refuse
// another instance of the network that reached its port. A proxy on the VM
// (Ubuntu's nginx) answers RStudio's port and lets through only requests
// carrying the instance's secret, as the gateway sends it and as Jupyter
// checks it itself; RStudio listens on loopback only, behind it. The secret
// comes by the Custom Script extension (SecretScript), which writes the
// proxy's test of it (ProxySecret) and reloads the proxy; until then the
// proxy refuses everything.

// rstudioLoopback is the port RStudio's container answers on, on the VM's
// loopback only.
const rstudioLoopback = "8788"

// ProxyConfig is the proxy's configuration, a file of nginx's conf.d
// (http context): 401 without the secret, and RStudio with WebSockets,
// streams and uploads of any size behind it, the secret not passed on.
func ProxyConfig() string {
	return strings.NewReplacer(
		"{rstudio}", portRStudio,
		"{rstudioLoopback}", rstudioLoopback,
		"{proxySecrets}", strings.TrimSuffix(proxySecretFile, ".conf")+"*.conf",
	).Replace(proxyConfig)
}

const proxyConfig = `# RStudio Server for the instance's owner, behind the instance's secret (instancehub).
map $http_authorization $instancehub_secret {
    default 0;
    include {proxySecrets};
}
map $http_upgrade $instancehub_connection {
    default upgrade;
    "" close;
}
server {
    listen {rstudio};
    server_tokens off;
    client_max_body_size 0;
    location / {
        if ($instancehub_secret != 1) {
            return 401;
        }
        proxy_pass http://127.0.0.1:{rstudioLoopback};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $instancehub_connection;
        proxy_set_header Authorization "";
        proxy_buffering off;
        proxy_request_buffering off;
        proxy_read_timeout 1d;
        proxy_send_timeout 1d;
    }
}
`

// indent puts prefix before every line of s but the first, which the
// template indents.
func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
