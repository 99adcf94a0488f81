package store

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestQuotaRequests: a request is open until one decision, which a second
// refuses with who decided; a grant sets the limit in the same transaction,
// only if the limit is still what the Owner saw; one open request per
// person, family and region; the requester is told each answer once.
func TestQuotaRequests(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	olu := createUser(t, db, "olu@example.com", "Olu")

	ask := &instancehub.QuotaRequest{UserID: ada.ID, Region: "westeurope", Family: "standardNCFamily", VCPUs: 6, Reason: "GPU training"}
	if err := db.AddQuotaRequest(ctx, ask); err != nil {
		t.Fatal(err)
	}
	again := &instancehub.QuotaRequest{UserID: ada.ID, Region: "westeurope", Family: "standardNCFamily", VCPUs: 2, Reason: "more"}
	if err := db.AddQuotaRequest(ctx, again); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Fatalf("a second open request for the same family and region: %v, want ECONFLICT", err)
	}
	total := &instancehub.QuotaRequest{UserID: ada.ID, Region: "westeurope", Family: instancehub.TotalRegionalVCPUs, VCPUs: 4, Reason: "the total too"}
	clock.Add(time.Minute)
	if err := db.AddQuotaRequest(ctx, total); err != nil {
		t.Fatal(err)
	}
	open, err := db.OpenQuotaRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].ID != ask.ID || open[0].UserName != "Ada" || open[0].VCPUs != 6 || open[0].Reason != "GPU training" ||
		!open[0].At.Equal(start) || open[1].ID != total.ID {
		t.Fatalf("open requests %+v", open)
	}

	// A grant raises the limit only from the limit the Owner saw.
	if err := db.SetWorkspaceLimit(ctx, "westeurope", "standardNCFamily", 12); err != nil {
		t.Fatal(err)
	}
	grant := &instancehub.QuotaRequest{ID: ask.ID, Region: ask.Region, Family: ask.Family, DecidedByID: olu.ID}
	if err := db.GrantQuotaRequest(ctx, grant, -1, 6); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Fatalf("grant from a stale limit: %v, want ECONFLICT", err)
	}
	if got, _ := db.QuotaRequest(ctx, ask.ID); got.Status != instancehub.QuotaRequestOpen {
		t.Fatalf("a refused grant left the request %s", got.Status)
	}
	clock.Add(time.Minute)
	grant = &instancehub.QuotaRequest{ID: ask.ID, Region: ask.Region, Family: ask.Family, DecidedByID: olu.ID}
	if err := db.GrantQuotaRequest(ctx, grant, 12, 18); err != nil || grant.Status != instancehub.QuotaRequestGranted {
		t.Fatalf("grant: %v, status %q", err, grant.Status)
	}
	q, err := db.WorkspaceQuota(ctx, "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	if q.Limits["standardNCFamily"] != 18 {
		t.Fatalf("limit after the grant %d, want 18", q.Limits["standardNCFamily"])
	}
	// No one decides twice.
	decline := &instancehub.QuotaRequest{ID: ask.ID, DecidedByID: olu.ID, Answer: "no"}
	err = db.DeclineQuotaRequest(ctx, decline)
	if instancehub.ErrorCode(err) != instancehub.ECONFLICT || instancehub.ErrorMessage(err) != "Olu granted this request already, on Mar 1, 2025, 09:02 UTC; it cannot be decided twice." {
		t.Fatalf("decline after grant: %v", err)
	}
	if err := db.GrantQuotaRequest(ctx, grant, 18, 24); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Fatalf("second grant: %v, want ECONFLICT", err)
	}
	if q, _ := db.WorkspaceQuota(ctx, "westeurope"); q.Limits["standardNCFamily"] != 18 {
		t.Fatalf("a refused second grant moved the limit to %d", q.Limits["standardNCFamily"])
	}
	if err := db.DeclineQuotaRequest(ctx, &instancehub.QuotaRequest{ID: 9999, DecidedByID: olu.ID, Answer: "x"}); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Fatalf("decline of no request: %v, want ENOTFOUND", err)
	}
	clock.Add(time.Minute)
	if err := db.DeclineQuotaRequest(ctx, &instancehub.QuotaRequest{ID: total.ID, DecidedByID: olu.ID, Answer: "The region is full this month."}); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.OpenQuotaRequests(ctx); len(open) != 0 {
		t.Fatalf("open after both decided: %+v", open)
	}
	// Once decided, the same family may be asked for again.
	if err := db.AddQuotaRequest(ctx, again); err != nil {
		t.Fatal(err)
	}

	// Ada hears both answers once, oldest first; Olu has none.
	answers, err := db.TakeQuotaAnswers(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != 2 || answers[0].Status != instancehub.QuotaRequestGranted || answers[0].DecidedByName != "Olu" ||
		answers[1].Status != instancehub.QuotaRequestDeclined || answers[1].Answer != "The region is full this month." {
		t.Fatalf("answers %+v", answers)
	}
	if answers, err := db.TakeQuotaAnswers(ctx, ada.ID); err != nil || len(answers) != 0 {
		t.Fatalf("answers told twice: %+v, %v", answers, err)
	}
	if answers, err := db.TakeQuotaAnswers(ctx, olu.ID); err != nil || len(answers) != 0 {
		t.Fatalf("Olu's answers: %+v, %v", answers, err)
	}
}
