package azure_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"go.yaml.in/yaml/v3"
)

type cloudConfig struct {
	WriteFiles []struct {
		Path        string `yaml:"path"`
		Owner       string `yaml:"owner"`
		Defer       bool   `yaml:"defer"`
		Permissions string `yaml:"permissions"`
		Content     string `yaml:"content"`
	} `yaml:"write_files"`
	RunCmd   [][]string `yaml:"runcmd"`
	Packages []string   `yaml:"packages"`
}

// TestCloudInit renders the VM's cloud-init, parses it as cloud-init does
// (YAML), and checks what the portal's gateway relies on: JupyterLab at the
// root path on 8888, started once the instance's secret is on the VM (and
// never from customData), and RStudio (which the Data Science VM no longer
// has) as a rocker container with its own login off on loopback, behind a
// proxy on 8787 that checks the secret.
func TestCloudInit(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	inst := instance("apps-box", "Standard_DS1_v2", false)
	inst.AppSecret = "s3cret-token_for-apps-box_0123456789abcdefgh"
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	raw, body := customData(t, emu, "apps-box")
	var cfg cloudConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("cloud-init is not YAML: %v\n%s", err, raw)
	}
	files, _ := cfg.files()

	var marker map[string]string
	if err := json.Unmarshal([]byte(files["/etc/instancehub/instance.json"]), &marker); err != nil || marker["instance"] != "apps-box" {
		t.Errorf("marker %q: %v", files["/etc/instancehub/instance.json"], err)
	}
	// No secret in customData, which Azure keeps as it was sent and which
	// the Compute spec says must hold none: the secret comes by extension.
	if strings.Contains(string(raw), inst.AppSecret) || strings.Contains(string(body), inst.AppSecret) {
		t.Errorf("the VM's PUT carries the instance's secret:\n%s", raw)
	}
	const config = "/etc/instancehub/jupyter_server_config.py"
	if _, ok := files[config]; ok {
		t.Errorf("cloud-init writes Jupyter's configuration, which the secret's script writes")
	}
	path := files["/etc/systemd/system/instancehub-jupyter.path"]
	if !strings.Contains(path, "PathExists="+azure.SecretFile) || !strings.Contains(path, "WantedBy=multi-user.target") {
		t.Errorf("JupyterLab does not wait for the secret:\n%s", path)
	}
	// JupyterLab listens on the address Azure gave the VM's network
	// interface, which the portal reaches it at, not on whichever address
	// hostname -I lists first (Docker's bridge, another interface).
	vm, err := c.VM(context.Background(), inst)
	if err != nil || vm.PrivateIP == "" {
		t.Fatalf("%+v %v", vm, err)
	}
	jupyter := execStart(files["/etc/systemd/system/instancehub-jupyter.service"])
	for _, want := range []string{"jupyter lab", "--port=8888", "--ServerApp.base_url=/ ", "--config=" + config, " --ip=" + vm.PrivateIP + " "} {
		if !strings.Contains(jupyter, want) {
			t.Errorf("JupyterLab's command lacks %q: %s", want, jupyter)
		}
	}
	// The secret is no token of Jupyter's: JupyterLab writes its token into
	// every page.
	if strings.Contains(jupyter, "token=") || strings.Contains(string(raw), ".token=") || strings.Contains(string(raw), "JUPYTER_TOKEN") {
		t.Errorf("the secret is passed as Jupyter's token:\n%s", raw)
	}
	if strings.Contains(string(raw), "hostname -I") {
		t.Errorf("cloud-init still takes an address from hostname -I")
	}
	// RStudio's unit runs the script that keeps its container running
	// (TestRStudioScript runs it).
	rstudio := files["/etc/systemd/system/instancehub-rstudio.service"]
	if execStart(rstudio) != "/etc/instancehub/rstudio.sh" || !strings.Contains(files["/etc/instancehub/rstudio.sh"], "docker run") {
		t.Errorf("RStudio's unit:\n%s", rstudio)
	}
	if strings.Contains(string(raw), "USERID=1000") {
		t.Errorf("RStudio assumes the owner's ID is 1000")
	}
	// RStudio, its login off, answers on loopback only; the proxy in front
	// of it checks the secret (TestProxyChecksTheSecret runs it).
	if !slices.Contains(cfg.Packages, "nginx") || files["/etc/nginx/conf.d/instancehub-rstudio.conf"] != azure.ProxyConfig() {
		t.Errorf("the proxy: packages %v, configuration:\n%s", cfg.Packages, files["/etc/nginx/conf.d/instancehub-rstudio.conf"])
	}
	run := strings.Join(flatten(cfg.RunCmd), " ")
	if strings.Contains(run, "rstudio-server") || !strings.Contains(run, "enable --now instancehub-jupyter.path") ||
		!strings.Contains(run, "rm -f /etc/nginx/sites-enabled/default") ||
		!strings.Contains(run, "instancehub-rstudio") {
		t.Errorf("runcmd: %s", run)
	}
}

// customData is the cloud-init the VM of name was made with, and the
// VM's PUT.
func customData(t *testing.T, emu *emulator.Emulator, name string) (cloudInit, put []byte) {
	t.Helper()
	body, _ := emu.RequestBody("virtualMachines", name)
	var vm struct {
		Properties struct {
			OSProfile struct {
				CustomData string `json:"customData"`
			} `json:"osProfile"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(body, &vm); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(vm.Properties.OSProfile.CustomData)
	if err != nil || !strings.HasPrefix(string(raw), "#cloud-config\n") {
		t.Fatalf("custom data is not cloud-config: %v\n%s", err, raw)
	}
	return raw, body
}

// files are the contents and modes of write_files, by path.
func (cfg cloudConfig) files() (contents, modes map[string]string) {
	contents, modes = map[string]string{}, map[string]string{}
	for _, f := range cfg.WriteFiles {
		contents[f.Path], modes[f.Path] = f.Content, f.Permissions
	}
	return contents, modes
}

func execStart(unit string) string {
	for _, line := range strings.Split(unit, "\n") {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			return rest
		}
	}
	return ""
}

func flatten(cmds [][]string) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, strings.Join(c, " "))
	}
	return out
}
