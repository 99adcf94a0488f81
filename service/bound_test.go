package service_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/service"
)

// TestLongInputsAreRefused sends each free-text field far longer than it
// can mean anything: each is refused with a message on its field, and
// nothing is stored.
func TestLongInputsAreRefused(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	huge := strings.Repeat("x", 5<<20)
	key := strings.Fields(testportal.SSHKey)
	create := func(change func(*instancehub.CreateRequest)) func() error {
		return func() error {
			req := testportal.Request("long-input")
			change(&req)
			_, err := p.Service.CreateInstance(p.Ctx, req)
			return err
		}
	}
	tests := []struct {
		desc, field, want string
		call              func() error
	}{
		{"a 5 MB key comment", "ssh_public_key", "too long for an SSH public key",
			create(func(r *instancehub.CreateRequest) { r.SSHEnabled, r.SSHPublicKey = true, key[0]+" "+key[1]+" "+huge })},
		{"a 1 KB key comment", "ssh_public_key", "at most 256 bytes",
			create(func(r *instancehub.CreateRequest) {
				r.SSHEnabled, r.SSHPublicKey = true, key[0]+" "+key[1]+" "+huge[:1024]
			})},
		{"a VM size", "vm_size", "too long", create(func(r *instancehub.CreateRequest) { r.VMSize = huge })},
		{"a virtual network", "virtual_network", "too long", create(func(r *instancehub.CreateRequest) { r.VirtualNetwork = huge })},
		{"a subnet", "subnet", "too long", create(func(r *instancehub.CreateRequest) { r.VirtualNetwork, r.Subnet = "vnet-eastus", huge })},
		{"an assignee", "assign_to", "too long", create(func(r *instancehub.CreateRequest) { r.AssignTo = huge + "@example.com" })},
		{"a new account's email", "email", "at most 254 bytes", func() error {
			_, err := p.Service.CreateUser(p.Ctx, strings.Repeat("a", 250)+"@example.com", "", testportal.Password)
			return err
		}},
		{"a new account's name", "name", "too long", func() error {
			_, err := p.Service.CreateUser(p.Ctx, "long@example.com", huge, testportal.Password)
			return err
		}},
		{"a role's assignee", "email", "too long", func() error {
			_, err := p.Service.AssignRole(p.Ctx, huge, instancehub.RoleReader)
			return err
		}},
		{"a workspace limit", "limit", "from 0 to 1000000", func() error {
			return p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 1<<40, false)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.call()
			msg := instancehub.ErrorFields(err)[tt.field]
			if instancehub.ErrorCode(err) != instancehub.EINVALID || !strings.Contains(msg, tt.want) || len(msg) > 300 {
				t.Errorf("err = %v; want a short message on %s containing %q", err, tt.field, tt.want)
			}
		})
	}
	page, _ := p.Service.ListInstances(p.Ctx, instancehub.ListQuery{})
	if page.Total != 0 {
		t.Errorf("%d instances stored", page.Total)
	}
	log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{}, 1)
	for _, e := range log.Events {
		if len(e.Target) > instancehub.MaxAuditTargetLength || len(e.Reason) > instancehub.MaxAuditReasonLength {
			t.Errorf("audit event %s keeps %d bytes of target, %d of reason", e.Action, len(e.Target), len(e.Reason))
		}
	}
}

// TestAuditKeepsBoundedFields has strangers send megabytes where an email
// and a path go: the log keeps a bounded, marked part of each.
func TestAuditKeepsBoundedFields(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	stranger := instancehub.NewContextWithSource(t.Context(), "198.51.100.1")
	huge := strings.Repeat("é", 1<<20) // two bytes each: a cut must not split one
	_, _ = p.Service.Authenticate(stranger, "a"+huge+"@example.com", "password")
	p.Service.RecordRefusal(stranger, "request.csrf", "POST /"+huge, "refused: "+huge)
	log, err := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Result: instancehub.AuditDenied}, 1)
	if err != nil || log.Total != 2 {
		t.Fatalf("%d events, %v", log.Total, err)
	}
	for _, e := range log.Events {
		limit := instancehub.MaxAuditTargetLength
		if e.Action == "session.signIn" {
			limit = instancehub.MaxEmailLength
		}
		if len(e.Target) > limit || !strings.HasSuffix(e.Target, instancehub.CutMarker) || !utf8.ValidString(e.Target) {
			t.Errorf("%s: target of %d bytes %q…, want at most %d ending in the marker", e.Action, len(e.Target), e.Target[:min(40, len(e.Target))], limit)
		}
		if len(e.Reason) > instancehub.MaxAuditReasonLength {
			t.Errorf("%s: reason of %d bytes", e.Action, len(e.Reason))
		}
	}
}

// TestRefusalsAreTallied sends a hundred refused requests in a minute: the
// log keeps one event that counts them, per source.
func TestRefusalsAreTallied(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	now := time.Date(2026, 11, 1, 12, 0, 30, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	one, other := instancehub.NewContextWithSource(t.Context(), "198.51.100.1"), instancehub.NewContextWithSource(t.Context(), "198.51.100.2")
	for range 100 {
		p.Service.RecordRefusal(one, "request.csrf", "POST /instances", "not from this portal")
	}
	p.Service.RecordRefusal(other, "request.csrf", "POST /instances", "not from this portal")
	log, err := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "request.csrf"}, 1)
	if err != nil || log.Total != 2 || log.Events[0].Count+log.Events[1].Count != 101 {
		t.Fatalf("%d events, %v: %+v; want 2 counting 100 and 1", log.Total, err, log.Events)
	}
	// Successes are kept one by one.
	for range 2 {
		if _, err := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{}, 1); err != nil {
			t.Fatal(err)
		}
	}
	if log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "audit.read"}, 1); log.Total < 3 {
		t.Errorf("%d reads of the log recorded, want one each", log.Total)
	}
}

// TestExportAudit writes the log as CSV through the callback, which is
// not called for a reader who may not export.
func TestExportAudit(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	bob := p.EnsureUser(t, "bob@example.com", "=HYPERLINK(\"x\")", instancehub.RoleReader)
	opened := 0
	var out bytes.Buffer
	open := func() io.Writer { opened++; return &out }
	if err := p.Service.ExportAudit(p.As(bob), instancehub.AuditFilter{}, open); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN || opened != 0 {
		t.Fatalf("a Reader exports: %v, opened %d times", err, opened)
	}
	for range 3 {
		p.Service.RecordRefusal(p.As(bob), "request.csrf", "POST /x", "refused")
	}
	if err := p.Service.ExportAudit(p.Ctx, instancehub.AuditFilter{Action: "request.csrf"}, open); err != nil || opened != 1 {
		t.Fatalf("export: %v, opened %d times", err, opened)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows = %q, %v", rows, err)
	}
	if strings.Join(rows[0], ",") != strings.Join(service.AuditCSVHeader, ",") || rows[0][8] != "count" {
		t.Errorf("header = %q", rows[0])
	}
	if r := rows[1]; r[1] != "'=HYPERLINK(\"x\")" || r[3] != "request.csrf" || r[5] != instancehub.AuditDenied || r[8] != "3" {
		t.Errorf("row = %q", r)
	}
	if log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "audit.export"}, 1); log.Total != 2 {
		t.Errorf("%d exports audited, want the refused and the done", log.Total)
	}
}

func TestParseWorkspaceLimit(t *testing.T) {
	for s, want := range map[string]int{"": -1, "  ": -1, "0": 0, " 48 ": 48, "007": 7, "1000000": 1000000,
		"1000001": -2, "-1": -2, "+5": -2, "1.5": -2, "1e3": -2, "eight": -2, "99999999999999999999": -2} {
		got, err := instancehub.ParseWorkspaceLimit(s)
		if want == -2 {
			if instancehub.ErrorFields(err)["limit"] == "" {
				t.Errorf("%q: %d, %v; want a field error", s, got, err)
			}
		} else if err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", s, got, err, want)
		}
	}
}

func TestSSHKeyCommentBound(t *testing.T) {
	key := strings.Join(strings.Fields(testportal.SSHKey)[:2], " ")
	comment := strings.Repeat("c", instancehub.MaxSSHKeyCommentLength)
	if got, err := instancehub.ParseSSHPublicKey(key + " " + comment); err != nil || got != key+" "+comment {
		t.Errorf("a comment of %d bytes: %q, %v", len(comment), got, err)
	}
	if _, err := instancehub.ParseSSHPublicKey(key + " " + comment + "c"); instancehub.ErrorFields(err)["ssh_public_key"] == "" {
		t.Errorf("a comment of %d bytes: %v, want refused", len(comment)+1, err)
	}
}
