package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
)

// TestCreateFormSetupScripts: the create form's Setup scripts section is
// there where scripts run; what is wrong with a script is said by its
// field, by the service's rule, with everything typed kept and nothing
// made; good scripts are kept with the instance. Where scripts run inline
// only (Azure) the file field is gone and a file is refused by its field;
// where they cannot run, the section is gone and a script is refused.
func TestCreateFormSetupScripts(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	if s.get(t, "/instances/new").doc.Find(`[data-testid="setup-scripts"]`).Length() != 0 {
		t.Error("the form offers setup scripts where they cannot run")
	}
	r := s.create(t, "no-runner", url.Values{"creation_script_command": {"echo hi"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := text(r.doc.Find(`[data-testid="setup_scripts-error"]`)); !strings.Contains(got, "cannot run setup scripts") {
		t.Errorf("a script where none runs: %q", got)
	}

	s.Service.SetupScripts, s.Service.SetupScriptFiles = true, true
	form := s.get(t, "/instances/new").doc
	for _, id := range []string{"creation_script_command", "creation_script_path", "creation_script_arguments", "creation_script_timeout",
		"startup_script_command", "startup_script_path", "startup_script_arguments", "startup_script_timeout"} {
		if form.Find(`label[for="`+id+`"]`).Length() != 1 || form.Find(`#`+id).Length() != 1 {
			t.Errorf("%s has no field with a label", id)
		}
	}
	r = s.create(t, "bad-scripts", url.Values{
		"creation_script_command": {"echo <made>"}, "creation_script_path": {"../../etc/passwd"},
		"startup_script_path": {"../outside.sh"}, "startup_script_arguments": {"-v"}, "startup_script_timeout": {"lots"},
	})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	for field, want := range map[string]string{
		"creation_script":                "not both",
		"startup_script.path":            "inside your files folder",
		"startup_script.timeout_minutes": "1 to 120",
	} {
		if got := text(r.doc.Find(`[data-testid="` + field + `-error"]`)); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if v := r.doc.Find(`#creation_script_command`).Text(); v != "echo <made>" {
		t.Errorf("the command typed is not kept: %q", v)
	}
	if v, _ := r.doc.Find(`#startup_script_timeout`).Attr("value"); v != "lots" {
		t.Errorf("the timeout typed is not kept: %q", v)
	}
	if inv, _ := r.doc.Find(`#startup_script_path`).Attr("aria-invalid"); inv != "true" {
		t.Error("the bad path is not marked invalid")
	}
	if _, err := s.DB.FindInstanceByName(s.Ctx, "bad-scripts"); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("a refused create made %v", err)
	}

	r = s.create(t, "scripted", url.Values{
		"creation_script_command": {"echo made > ~/made\r\n"}, "creation_script_timeout": {"5"},
		"startup_script_path": {"scripts/start.sh"}, "startup_script_arguments": {" -v 2 "},
	})
	wantStatus(t, r, http.StatusSeeOther)
	inst, err := s.DB.FindInstanceByName(s.Ctx, "scripted")
	if err != nil {
		t.Fatal(err)
	}
	c, st := inst.Setup.Creation, inst.Setup.Startup
	if c == nil || c.Command != "echo made > ~/made\n" || c.Timeout != 5*time.Minute || c.Path != "" {
		t.Errorf("creation script kept as %+v", c)
	}
	if st == nil || st.Path != "scripts/start.sh" || st.Arguments != "-v 2" || st.Timeout != instancehub.DefaultSetupTimeout {
		t.Errorf("startup script kept as %+v", st)
	}

	// Inline only, as on Azure.
	s.Service.SetupScriptFiles = false
	if s.get(t, "/instances/new").doc.Find(`#creation_script_path`).Length() != 0 {
		t.Error("the form offers a file where scripts are inline only")
	}
	r = s.create(t, "by-file", url.Values{"creation_script_path": {"scripts/setup.sh"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := text(r.doc.Find(`[data-testid="creation_script.path-error"]`)); !strings.Contains(got, "inline") {
		t.Errorf("a file where scripts are inline only: %q", got)
	}
}

// TestReviewShowsSetupScripts: the review names the scripts the instance
// will run, and its hidden fields carry them, so that Create makes the
// instance with them.
func TestReviewShowsSetupScripts(t *testing.T) {
	s := newSite(t, 0)
	s.Service.SetupScripts, s.Service.SetupScriptFiles = true, true
	s.signIn(t, "ada@example.com")
	typed := url.Values{"name": {"scripted"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}, "type": {"CPU"},
		"creation_script_command": {"apt-get install -y jq\necho done"}, "creation_script_timeout": {"20"},
		"startup_script_path": {"start.sh"}, "startup_script_arguments": {"--fast"}}
	r := s.post(t, "/instances/review", typed)
	wantStatus(t, r, http.StatusOK)
	if got := text(r.doc.Find(`[data-testid="review-creation-script"]`)); got != "apt-get install -y jq … (stops after 20 minutes)" {
		t.Errorf("review's creation script = %q", got)
	}
	if got := text(r.doc.Find(`[data-testid="review-startup-script"]`)); got != "start.sh --fast (stops after 15 minutes)" {
		t.Errorf("review's startup script = %q", got)
	}
	carried := url.Values{}
	r.doc.Find(`form input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		value, _ := in.Attr("value")
		carried.Add(name, value)
	})
	if carried.Get("creation_script_command") != typed.Get("creation_script_command") || carried.Get("startup_script_path") != "start.sh" {
		t.Errorf("the review carries %v", carried)
	}
}
