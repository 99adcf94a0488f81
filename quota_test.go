package instancehub_test

import (
	"testing"

	"github.com/instancehub/instancehub"
)

// TestQuotaMessageCountsInWords: one vCPU is "1 vCPU", never "1 vCPUs".
func TestQuotaMessageCountsInWords(t *testing.T) {
	for _, c := range []struct {
		requested int
		want      string
	}{
		{1, "Standard DSv2 Family: 1 vCPU requested, but 4 of the workspace's limit of 4 are in use in eastus."},
		{4, "Standard DSv2 Family: 4 vCPUs requested, but 4 of the workspace's limit of 4 are in use in eastus."},
	} {
		if got := instancehub.QuotaMessage(instancehub.LevelWorkspace, "eastus", "standardDSv2Family", c.requested, 4, 4); got != c.want {
			t.Errorf("%d requested: %q, want %q", c.requested, got, c.want)
		}
	}
}

// TestGroupHolders: the holders by family keep the holders' order, and
// callers that append to a family's list (shared by every reader of a kept
// quota) each get their own.
func TestGroupHolders(t *testing.T) {
	a1 := &instancehub.Instance{Name: "a1", Family: "standardDSv2Family"}
	n1 := &instancehub.Instance{Name: "n1", Family: "standardNCFamily"}
	a2 := &instancehub.Instance{Name: "a2", Family: "standardDSv2Family"}
	a3 := &instancehub.Instance{Name: "a3", Family: "standardDSv2Family"}
	q := &instancehub.WorkspaceQuota{Holders: []*instancehub.Instance{a1, n1, a2, a3}}
	q.GroupHolders()
	dsv2 := q.ByFamily["standardDSv2Family"]
	if len(dsv2) != 3 || dsv2[0] != a1 || dsv2[1] != a2 || dsv2[2] != a3 {
		t.Fatalf("DSv2 holders %v, want a1, a2, a3", dsv2)
	}
	if got := q.ByFamily["standardNCFamily"]; len(got) != 1 || got[0] != n1 {
		t.Fatalf("NC holders %v, want n1", got)
	}
	mine, yours := append(dsv2, n1), append(dsv2, a1)
	if mine[3] != n1 || yours[3] != a1 {
		t.Fatal("two appends to one family's list wrote the same place")
	}
}
