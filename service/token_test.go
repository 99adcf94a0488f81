package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestNoRoleNoToken: someone with no role in the workspace gets no token,
// which every call would refuse, whether they ask for it themself or it
// is asked on the command line; the refusal says why and is audited as a
// refusal. Once they have a role, they get one.
func TestNoRoleNoToken(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	nobody := p.EnsureUser(t, "nobody@example.com", "No Role")
	n := instancehub.NewToken{Name: "nightly"}
	if _, err := p.Service.CreateToken(p.As(nobody), n); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN ||
		!strings.Contains(instancehub.ErrorMessage(err), "no role") {
		t.Errorf("their own token: %v, want a refusal naming the missing role", err)
	}
	if _, err := p.Service.CreateTokenFromCLI(p.Ctx, "nobody@example.com", n); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN ||
		!strings.Contains(instancehub.ErrorMessage(err), "no role") {
		t.Errorf("from the command line: %v, want a refusal naming the missing role", err)
	}
	if tokens, err := p.DB.FindTokens(p.Ctx, nobody.ID, now); err != nil || len(tokens) != 0 {
		t.Errorf("tokens kept: %d, %v", len(tokens), err)
	}
	log, err := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "token.create", Result: instancehub.AuditDenied}, 1)
	counted := 0
	for _, e := range log.Events {
		counted += e.Count
	}
	if err != nil || counted != 2 {
		t.Errorf("refusals audited: %d (%v), want 2", counted, err)
	}

	reader := p.EnsureUser(t, "nobody@example.com", "No Role", instancehub.RoleReader)
	if _, err := p.Service.CreateToken(p.As(reader), n); err != nil {
		t.Errorf("with a role: %v", err)
	}
}
