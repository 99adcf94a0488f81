package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// FuzzListQuery sends any query string to the list page, as a signed-in
// user, whole page and htmx fragment: it must answer 200 and never fail.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "q=gpu&sort=-name&page=2&mine=1", "page=-1", "page=99999999999999999999", "sort=%00",
		"q=" + strings.Repeat("%25", 300), "q=%E2%80%AE&sort=name", "page=1&page=2&q=a&q=b", "%zz", "q=';--",
	} {
		f.Add(seed)
	}
	p := testportal.Open(f, f.TempDir(), 0)
	p.Seed(f, "fuzz", 3, p.User)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler := web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true}, p.Service).Handler()
	form := url.Values{"email": {"ada@example.com"}, "password": {testportal.Password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		f.Fatalf("sign-in: %d", rec.Code)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if _, err := url.ParseRequestURI("/instances?" + query); err != nil || strings.ContainsAny(query, " #") {
			return // not a query string a browser sends
		}
		for _, htmx := range []bool{false, true} {
			req := httptest.NewRequest(http.MethodGet, "/instances?"+query, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			if htmx {
				req.Header.Set("HX-Request", "true")
				req.Header.Set("HX-Target", "instance-list")
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /instances?%s (htmx %v): %d\n%.500s", query, htmx, rec.Code, rec.Body.String())
			}
		}
	})
}

// FuzzAPICreate sends any body, as YAML and as JSON, to the API's create
// and apply: the answer is never a server error, always JSON, and whatever
// the portal accepted (the instance it recorded, the VM it asked Azure
// for) passes every rule of the form.
func FuzzAPICreate(f *testing.F) {
	seeds, _ := filepath.Glob("../amlyaml/testdata/*.*")
	for _, name := range seeds {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data, strings.HasSuffix(name, ".json"))
		}
	}
	for _, seed := range []string{
		"name: fz-a\ntype: computeinstance\n",
		"name: fz-b\ntype: computeinstance\nsize: standard_ds1_v2\ntags: {a: b}\nidentity: {type: system_assigned}\n",
		`{"name": "fz-c", "type": "computeinstance", "tags": {"x": 1}, "idle_time_before_shutdown_minutes": 20}`,
		"name: -bad\ntype: computeinstance\n", "name: fz-d\ntype: computeinstance\ntags: {instancehub-portal: x}\n",
		"name: &a fz-e\ntype: *a\n", "{", "name: fz-f\ntype: computeinstance\ncreate_on_behalf_of: {user_object_id: nobody}\n",
	} {
		f.Add([]byte(seed), strings.HasPrefix(seed, "{"))
	}
	p := testportal.Open(f, f.TempDir(), 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler := web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true}, p.Service).Handler()
	created, err := p.Service.CreateTokenFromCLI(p.Ctx, "ada@example.com", instancehub.NewToken{Name: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ctype := "application/yaml"
		if asJSON {
			ctype = "application/json"
		}
		for _, path := range []string{"/api/v1/computes", "/api/v1/computes:apply"} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Authorization", "Bearer "+created.Secret)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code >= 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("POST %s %q: %d %s\n%.500s", path, body, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
		}
		page, err := p.Service.ListInstances(p.Ctx, instancehub.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range page.Instances {
			checkAccepted(t, p, inst)
		}
	})
}

// checkAccepted fails unless inst, and the VM asked of Azure for it, keep
// every rule a create is checked against.
func checkAccepted(t *testing.T, p *testportal.Portal, inst *instancehub.Instance) {
	t.Helper()
	for what, err := range map[string]error{
		"name": instancehub.ValidateName(inst.Name), "tags": instancehub.ValidateTags(inst.Tags),
		"identity": instancehub.ValidateIdentity(inst.Identity),
	} {
		if err != nil {
			t.Fatalf("%s was accepted with a bad %s: %v", inst.Name, what, err)
		}
	}
	if len(inst.Description) > instancehub.MaxDescriptionLength || inst.VCPUs == 0 || inst.Family == "" {
		t.Fatalf("%s was accepted as %+v", inst.Name, inst)
	}
	if inst.SSHEnabled {
		if _, err := instancehub.ParseSSHPublicKey(inst.SSHPublicKey); err != nil {
			t.Fatalf("%s was accepted with the key %q", inst.Name, inst.SSHPublicKey)
		}
	}
	if body, ok := p.Emu.RequestBody("virtualMachines", inst.Name); ok {
		var vm struct {
			Tags     map[string]string
			Identity *struct{ UserAssignedIdentities map[string]any }
		}
		if err := json.Unmarshal(body, &vm); err != nil {
			t.Fatal(err)
		}
		if len(vm.Tags) > instancehub.MaxTags+3 {
			t.Fatalf("the VM of %s got %d tags", inst.Name, len(vm.Tags))
		}
		if vm.Identity != nil {
			var ids []string
			for id := range vm.Identity.UserAssignedIdentities {
				ids = append(ids, id)
			}
			if err := instancehub.ValidateIdentity(instancehub.ManagedIdentity{UserAssigned: ids}); err != nil {
				t.Fatalf("the VM of %s got identities %v", inst.Name, ids)
			}
		}
	}
}
