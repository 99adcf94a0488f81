package azure_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"go.yaml.in/yaml/v3"
)

// cloudWith is newCloud's cloud with its configuration changed by edit.
func cloudWith(t *testing.T, edit func(*azure.Config)) (*azure.Cloud, *emulator.Emulator) {
	t.Helper()
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	cfg := azure.Config{
		SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(),
		Regions: emu.Regions(), PublicIP: true, PortalID: "test-portal",
		SSHSourceRange: "203.0.113.0/24", AppSourceRange: "10.9.0.0/24",
	}
	edit(&cfg)
	c, err := azure.New(cfg, emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

// rstudioVM is the RStudio script of a VM's rendered cloud-init, run in a
// folder with stand-ins for the VM's docker, curl, id and sleep, each
// recording its calls; sleep ends the script at its stop'th call.
type rstudioVM struct {
	t       *testing.T
	script  string
	bin     string
	put     armcompute.VirtualMachine
	pullsOK int // docker pull fails until its pullsOK'th call
}

func newRStudioVM(t *testing.T, c *azure.Cloud, emu *emulator.Emulator, name string) *rstudioVM {
	t.Helper()
	if err := run(t, c, instancehub.OpCreate, instance(name, "Standard_DS1_v2", false)); err != nil {
		t.Fatal(err)
	}
	raw, body := customData(t, emu, name)
	var cfg cloudConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	files, modes := cfg.files()
	vm := &rstudioVM{t: t, bin: t.TempDir(), script: filepath.Join(t.TempDir(), "rstudio.sh")}
	if modes["/etc/instancehub/rstudio.sh"] != "0755" {
		t.Fatalf("the RStudio script's mode: %q", modes["/etc/instancehub/rstudio.sh"])
	}
	write(t, vm.script, files["/etc/instancehub/rstudio.sh"])
	if err := json.Unmarshal(body, &vm.put); err != nil {
		t.Fatal(err)
	}
	return vm
}

// run runs the script until sleep's stop'th call; curl answers IMDS with
// the token "aad-token" and the registry's exchange with "acr-refresh".
func (vm *rstudioVM) run(stop int) map[string][]string {
	vm.t.Helper()
	logs := filepath.Join(vm.bin, "log")
	stub := func(name, body string) {
		write(vm.t, filepath.Join(vm.bin, name), "#!/bin/sh\nlog="+logs+"\n"+body)
		if err := os.Chmod(filepath.Join(vm.bin, name), 0o755); err != nil {
			vm.t.Fatal(err)
		}
	}
	stub("docker", fmt.Sprintf(`echo "$*" >>$log.docker
case "$1" in
inspect|image) exit 1 ;;
pull) n=$(cat $log.pulls 2>/dev/null || echo 0); n=$((n+1)); echo $n >$log.pulls; [ $n -ge %d ] ;;
login) cat >>$log.login ;;
esac
`, max(vm.pullsOK, 1)))
	stub("curl", `echo "$*" >>$log.curl
case "$*" in
*169.254.169.254/metadata/identity/oauth2/token*)
	case "$*" in *"-H Metadata:true"*) echo '{"access_token": "aad-token", "token_type": "Bearer"}' ;; *) exit 22 ;; esac ;;
*/oauth2/exchange*)
	case "$*" in *access_token=aad-token*) echo '{"refresh_token": "acr-refresh"}' ;; *) exit 22 ;; esac ;;
*) exit 6 ;;
esac
`)
	stub("id", `case "$*" in "-u azureuser") echo 2001 ;; "-g azureuser") echo 2002 ;; *) exit 1 ;; esac
`)
	stub("sleep", fmt.Sprintf(`echo "$1" >>$log.sleep
[ $(wc -l <$log.sleep) -lt %d ] || kill -TERM $PPID
`, stop))
	cmd := exec.Command("/bin/sh", vm.script)
	cmd.Env = append(os.Environ(), "PATH="+vm.bin+":"+os.Getenv("PATH"))
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		vm.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		vm.t.Fatal("the RStudio script never slept its last")
	}
	calls := map[string][]string{}
	for _, tool := range []string{"docker", "curl", "sleep", "login"} {
		b, _ := os.ReadFile(logs + "." + tool)
		calls[tool] = strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) == 0 {
			calls[tool] = nil
		}
	}
	return calls
}

// TestRStudioScript: RStudio's container runs by the digest the registry
// gives its tag (read once, then kept), as the owner's account, on
// loopback; a pull refused or a container that stops is tried again after
// 30 s, doubling to 30 minutes; nothing signs in where no identity is
// configured.
func TestRStudioScript(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	vm := newRStudioVM(t, c, emu, "studio-box")
	newRStudioVM(t, c, emu, "studio-box2")

	// The digest is the one the registry gives the default image's tag now.
	req, _ := runtime.NewRequest(context.WithValue(context.Background(), runtime.CtxAPINameKey{}, azure.RegistryManifestAPI),
		http.MethodGet, "https://ghcr.io/v2/azure/rocker-rstudio-ml-verse/manifests/latest")
	resp, err := emu.ClientOptions().Transport.Do(req.Raw())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	image := "ghcr.io/azure/rocker-rstudio-ml-verse@" + resp.Header.Get("Docker-Content-Digest")
	if !regexp.MustCompile(`@sha256:[0-9a-f]{64}$`).MatchString(image) {
		t.Fatalf("the registry's digest: %q", image)
	}
	if n := emu.CallsTo(azure.RegistryManifestAPI); n != 2 {
		t.Errorf("%d registry reads for two VMs and this test's, want the tag read once for both", n-1)
	}

	vm.pullsOK = 3
	calls := vm.run(8)
	if want := []string{"30", "60", "120", "240", "480", "960", "1800", "1800"}; !slices.Equal(calls["sleep"], want) {
		t.Errorf("waits %v, want %v", calls["sleep"], want)
	}
	var runs []string
	for _, c := range calls["docker"] {
		if strings.HasPrefix(c, "run ") {
			runs = append(runs, c)
		}
		if strings.HasPrefix(c, "pull ") && c != "pull "+image {
			t.Errorf("docker %s, want the image by digest", c)
		}
	}
	if len(runs) != 6 {
		t.Errorf("%d runs of the container (%q), want one after each of the 6 pulls that worked", len(runs), calls["docker"])
	}
	for _, want := range []string{" -p 127.0.0.1:8788:8787 ", " -e DISABLE_AUTH=true ", " -e USERID=2001 -e GROUPID=2002 ", " -v /home/azureuser:/home/rstudio ", " " + image} {
		if len(runs) > 0 && !strings.Contains(runs[0]+" ", want) {
			t.Errorf("docker %s lacks %q", runs[0], want)
		}
	}
	if calls["curl"] != nil || calls["login"] != nil {
		t.Errorf("signed in without an identity: curl %q, login %q", calls["curl"], calls["login"])
	}
	if vm.put.Identity != nil {
		t.Errorf("the VM got an identity: %+v", vm.put.Identity)
	}
}

// TestRStudioFromAnAzureContainerRegistry: with an image pinned by digest in
// an Azure Container Registry and the registry's identity, every VM gets that
// identity beside its own, and signs docker in to the registry with it
// (IMDS's token for it, exchanged at the registry), then pulls by the
// digest given; the portal reads no registry.
func TestRStudioFromAnAzureContainerRegistry(t *testing.T) {
	const (
		identity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull"
		image    = "contoso.azurecr.io/rstudio/ml-verse@sha256:89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	)
	c, emu := cloudWith(t, func(cfg *azure.Config) { cfg.RStudioImage, cfg.RegistryIdentity = image, identity })
	vm := newRStudioVM(t, c, emu, "acr-box")
	if id := vm.put.Identity; id == nil || *id.Type != armcompute.ResourceIdentityTypeUserAssigned || len(id.UserAssignedIdentities) != 1 || id.UserAssignedIdentities[identity] == nil {
		t.Errorf("the VM's identity: %+v", vm.put.Identity)
	}
	vm.pullsOK = 1
	calls := vm.run(1)
	if len(calls["curl"]) != 2 || !strings.Contains(calls["curl"][0], "msi_res_id="+identity) ||
		!strings.Contains(calls["curl"][0], "resource=https://management.azure.com/") ||
		!strings.Contains(calls["curl"][1], "service=contoso.azurecr.io") || !strings.HasSuffix(calls["curl"][1], "https://contoso.azurecr.io/oauth2/exchange") {
		t.Errorf("curl %q, want IMDS's token for the identity, then the registry's exchange", calls["curl"])
	}
	if !slices.Contains(calls["docker"], "login contoso.azurecr.io --username 00000000-0000-0000-0000-000000000000 --password-stdin") ||
		!slices.Equal(calls["login"], []string{"acr-refresh"}) || !slices.Contains(calls["docker"], "pull "+image) {
		t.Errorf("docker %q, login's password %q", calls["docker"], calls["login"])
	}
	if n := emu.CallsTo(azure.RegistryManifestAPI); n != 0 {
		t.Errorf("the portal read the registry %d times for an image pinned by digest", n)
	}

	// An instance with an identity of its own keeps it, the registry's added.
	inst := instance("both-box", "Standard_DS1_v2", false)
	inst.Identity = instancehub.ManagedIdentity{SystemAssigned: true}
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	_, body := customData(t, emu, "both-box")
	var put armcompute.VirtualMachine
	if err := json.Unmarshal(body, &put); err != nil || put.Identity == nil || *put.Identity.Type != armcompute.ResourceIdentityTypeSystemAssignedUserAssigned || put.Identity.UserAssignedIdentities[identity] == nil {
		t.Errorf("identity %+v (%v)", put.Identity, err)
	}
}

// TestRStudioImageDigestFromARegistry reads a tag's digest from a registry
// over TLS as Docker's token authentication has it: the manifest refused
// (401 with a Bearer challenge), an anonymous token from the realm for the
// repository's pull scope, the manifest again with it; the digest is the
// manifest's SHA-256. A registry out of reach later leaves the last digest
// in use; one never read fails the create, saying to pin the image.
func TestRStudioImageDigestFromARegistry(t *testing.T) {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	sum := sha256.Sum256(manifest)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	var mu sync.Mutex
	var down bool
	var tokens []string
	g := newGroup(t, nil)
	registry := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case down:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/token":
			tokens = append(tokens, r.URL.RawQuery)
			fmt.Fprint(w, `{"token":"anonymous-pull"}`)
		case r.URL.Path == "/v2/team/rstudio/manifests/4.4" && r.Header.Get("Authorization") != "Bearer anonymous-pull":
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+r.Host+`/token",service="test-registry",scope="repository:team/rstudio:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/team/rstudio/manifests/4.4" && strings.Contains(r.Header.Get("Accept"), "application/vnd.oci.image.index.v1+json"):
			w.Header().Set("Docker-Content-Digest", digest)
			w.Write(manifest)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer registry.Close()
	host := strings.TrimPrefix(registry.URL, "https://")
	// One transport for ARM and the registry, as a real one reaches both;
	// azcore's retries quick, so that the registry's 503s cost no time.
	roots := x509.NewCertPool()
	roots.AddCert(g.Certificate())
	roots.AddCert(registry.Certificate())
	cloud := func() *azure.Cloud {
		opts := loopbackOptions(&armServer{Server: g.Server})
		opts.Transport = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		opts.Retry = policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
		c, err := azure.New(azure.Config{
			SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"}, PortalID: "instancehub",
			Image:        azure.Image{Publisher: "microsoft-dsvm", Offer: "ubuntu-2204", SKU: "2204-gen2", Version: "25.04.22"},
			RStudioImage: host + "/team/rstudio:4.4", CacheTTL: time.Nanosecond,
		}, &azfake.TokenCredential{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := cloud()
	cloudInitOf := func(name string) string {
		t.Helper()
		g.mu.Lock()
		raw := g.resources[strings.ToLower("/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/"+name)]
		g.mu.Unlock()
		var vm armcompute.VirtualMachine
		if err := json.Unmarshal(raw, &vm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		decoded, err := base64.StdEncoding.DecodeString(*vm.Properties.OSProfile.CustomData)
		if err != nil {
			t.Fatal(err)
		}
		return string(decoded)
	}
	box := busyBox()
	if op := runOperation(t, c, box, instancehub.OpCreate); op.Status != instancehub.StatusSucceeded {
		t.Fatalf("create: %s %s", op.Status, op.ErrorMessage)
	}
	if want := "image='" + host + "/team/rstudio@" + digest + "'"; !strings.Contains(cloudInitOf("busy-box"), want) {
		t.Errorf("cloud-init lacks %s", want)
	}
	mu.Lock()
	if len(tokens) != 1 || tokens[0] != "scope=repository%3Ateam%2Frstudio%3Apull&service=test-registry" {
		t.Errorf("token requests %q", tokens)
	}
	down = true
	mu.Unlock()

	second := busyBox()
	second.ID, second.Name = 2, "busy-box2"
	if op := runOperation(t, c, second, instancehub.OpCreate); op.Status != instancehub.StatusSucceeded {
		t.Fatalf("create with the registry down: %s %s", op.Status, op.ErrorMessage)
	}
	if !strings.Contains(cloudInitOf("busy-box2"), "@"+digest+"'") {
		t.Error("with the registry down, the last digest was not used")
	}
	third := busyBox()
	third.ID, third.Name = 3, "busy-box3"
	op := runOperation(t, cloud(), third, instancehub.OpCreate)
	if op.Status != instancehub.StatusFailed || !strings.Contains(op.ErrorMessage, "answered 503") || !strings.Contains(op.ErrorMessage, "pinned by digest (--azure-rstudio-image "+host+"/team/rstudio@sha256:…)") {
		t.Errorf("a portal that never read the digest: %s %s", op.Status, op.ErrorMessage)
	}
}
