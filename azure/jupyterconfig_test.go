package azure_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub/azure"
)

// jupyterServer2 and jupyterServer1 stand in for the classes the
// configuration imports from Jupyter Server 2 and 1 (which the Data Science
// VM has, and Debian cannot install here), with the same names and call
// shapes; checkConfig runs the configuration as Jupyter would, with c, and
// asks it who a request is.
const (
	jupyterServer2 = `
class IdentityProvider:
    pass

class User:
    def __init__(self, username):
        self.username = username
`
	jupyterServer1 = `
class LoginHandler:
    pass
`
	checkConfig = `
import os
import sys

class Section:
    pass

class Config:
    def __getattr__(self, name):
        s = Section()
        setattr(self, name, s)
        return s

class Request:
    def __init__(self, auth):
        self.headers = {"Authorization": auth} if auth is not None else {}

class Handler:
    def __init__(self, auth):
        self.request = Request(auth)

c = Config()
exec(open(sys.argv[1]).read(), {"c": c})
assert c.ServerApp.token == "" and c.ServerApp.password == "", "Jupyter keeps a token"
if hasattr(c.ServerApp, "identity_provider_class"):
    assert c.IdentityProvider.token == ""
    provider = c.ServerApp.identity_provider_class()
    who = lambda h: (lambda u: u and u.username)(provider.get_user(h))
    kind = "identity provider"
else:
    login = c.ServerApp.login_handler_class
    assert login.get_login_available({})
    who = login.get_user
    kind = "login handler"

def check(cases):
    for auth, want in cases:
        h = Handler(auth)
        got = who(h)
        assert got == want, (auth, got)
        assert getattr(h, "_token_authenticated", False) == (want is not None)

secret_file = sys.argv[2]
check([("token the-secret", None), ("token ", None), ("", None), (None, None)])  # no secret on the VM yet
with open(secret_file, "w") as f:
    f.write("the-secret\n")  # as the script writes it
check([("token the-secret", "owner"), ("token other", None), ("the-secret", None), ("token ", None), ("", None), (None, None)])
with open(secret_file + ".new", "w") as f:
    f.write("the-next-secret\n")
os.replace(secret_file + ".new", secret_file)  # a Start's new secret, replaced whole
check([("token the-next-secret", "owner"), ("token the-secret", None)])
with open(secret_file, "w") as f:
    f.write("")
check([("token ", None), ("token the-next-secret", None)])
print(kind)
`
)

// TestJupyterConfigSignsInTheGatewayOnly: Jupyter signs in a request that
// carries the secret the VM holds, read again when a Start replaces it, and
// nobody while the VM holds none.
func TestJupyterConfigSignsInTheGatewayOnly(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not installed: make test installs Debian's Jupyter, which brings it")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "jupyter_server_config.py")
	write(t, filepath.Join(dir, "check.py"), checkConfig)
	for version, want := range map[string]string{"2": "identity provider", "1": "login handler"} {
		t.Run("Jupyter Server "+version, func(t *testing.T) {
			mods := filepath.Join(dir, "v"+version)
			auth := filepath.Join(mods, "jupyter_server", "auth")
			write(t, filepath.Join(mods, "jupyter_server", "__init__.py"), "")
			write(t, filepath.Join(auth, "__init__.py"), "")
			if version == "2" {
				write(t, filepath.Join(auth, "identity.py"), jupyterServer2)
			}
			write(t, filepath.Join(auth, "login.py"), jupyterServer1)
			secretFile := filepath.Join(t.TempDir(), "secret")
			write(t, config, azure.JupyterConfig(secretFile))
			cmd := exec.Command(python, filepath.Join(dir, "check.py"), config, secretFile)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+mods)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != want {
				t.Fatalf("%v: %s", err, out)
			}
		})
	}
	if strings.Contains(azure.JupyterConfig(`x" + __import__("os").system("id") + "`), `"x" + __import__`) {
		t.Fatal("a path can end the Python string it is written in")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
