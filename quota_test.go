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
