package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// TestANewerImageIsSaid: once the emulator's catalog holds a newer version
// of the Data Science VM, an instance made from the older one says so on its
// details page (and that a new instance gets the newer), the list's "Only on
// an old image" keeps it alone, a new instance gets the newer version, and
// the API answers osImageMetadata in the reference's shape.
func TestANewerImageIsSaid(t *testing.T) {
	dir := t.TempDir()
	// The cloud asks the marketplace every time, as it does once its
	// catalog's entries lapse.
	p := testportal.OpenWired(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db")}, testportal.Wiring{CacheTTL: time.Nanosecond})
	srv := web.New(web.Config{Workspace: "Test workspace", Static: static.FS, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LocalAccounts: true}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	s := &site{Portal: p, server: server, client: newClient()}
	s.signIn(t, "ada@example.com")
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}

	wantStatus(t, s.create(t, "lab-old", nil), 303)
	s.waitRunning(t, "lab-old")
	page := s.get(t, "/instances/lab-old")
	if v := text(page.doc.Find(`[data-testid="image-version"]`)); v != "25.04.22" {
		t.Fatalf("the version shown: %q", v)
	}
	if page.doc.Find(`[data-testid="image-notice"]`).Length() != 0 || page.doc.Find(`[data-testid="image-latest"]`).Length() != 1 {
		t.Errorf("on the newest image: %q", text(page.doc.Find(`[data-testid="image-notice"]`)))
	}
	for _, part := range []string{"microsoft-dsvm", "ubuntu-2204", "2204-gen2"} {
		if !strings.Contains(text(page.doc.Find(".image-parts")), part) {
			t.Errorf("the image's parts lack %s: %q", part, text(page.doc.Find(".image-parts")))
		}
	}
	wantImageMetadata(t, a, "lab-old", `{"currentImageVersion":"25.04.22","latestImageVersion":"25.04.22","isLatestOsImageVersion":true}`)
	if list := s.get(t, "/instances?oldimage=1"); list.doc.Find(`tr[data-name]`).Length() != 0 || list.doc.Find(`[data-testid="no-matches"]`).Length() != 1 {
		t.Errorf("the old-image filter before a newer image: %d rows", list.doc.Find(`tr[data-name]`).Length())
	}

	if err := p.Emu.PublishImageVersion("microsoft-dsvm", "ubuntu-2204", "2204-gen2", "25.10.1"); err != nil {
		t.Fatal(err)
	}
	page = s.get(t, "/instances/lab-old")
	notice := text(page.doc.Find(`[data-testid="image-notice"]`))
	if !strings.Contains(notice, "A newer version of this image, 25.10.1, is available") || !strings.Contains(notice, "A new instance gets 25.10.1") {
		t.Errorf("the notice: %q", notice)
	}
	wantImageMetadata(t, a, "lab-old", `{"currentImageVersion":"25.04.22","latestImageVersion":"25.10.1","isLatestOsImageVersion":false}`)

	wantStatus(t, s.create(t, "lab-new", nil), 303)
	if inst := s.waitRunning(t, "lab-new"); inst.Image != "microsoft-dsvm:ubuntu-2204:2204-gen2:25.10.1" {
		t.Errorf("the new instance's image: %q", inst.Image)
	}
	if page := s.get(t, "/instances/lab-new"); page.doc.Find(`[data-testid="image-notice"]`).Length() != 0 {
		t.Errorf("the new instance's notice: %q", text(page.doc.Find(`[data-testid="image-notice"]`)))
	}
	list := s.get(t, "/instances?oldimage=1")
	var names []string
	list.doc.Find(`tr[data-name]`).Each(func(_ int, row *goquery.Selection) { names = append(names, row.AttrOr("data-name", "")) })
	if strings.Join(names, " ") != "lab-old" || list.doc.Find(`input#old-image[checked]`).Length() != 1 {
		t.Errorf("the old-image filter: %v", names)
	}
	if all := s.get(t, "/instances"); all.doc.Find(`tr[data-name]`).Length() != 2 {
		t.Errorf("unfiltered: %d rows", all.doc.Find(`tr[data-name]`).Length())
	}
}

// wantImageMetadata checks the API's osImageMetadata of an instance.
func wantImageMetadata(t *testing.T, a apiClient, name, want string) {
	t.Helper()
	var got struct {
		Properties struct {
			Properties struct {
				OSImageMetadata json.RawMessage `json:"osImageMetadata"`
			} `json:"properties"`
		} `json:"properties"`
	}
	r := a.get(t, "/api/v1/computes/"+name)
	wantStatus(t, r, 200)
	decodeJSON(t, r, &got)
	if string(got.Properties.Properties.OSImageMetadata) != want {
		t.Errorf("%s's osImageMetadata: %s, want %s", name, got.Properties.Properties.OSImageMetadata, want)
	}
}
