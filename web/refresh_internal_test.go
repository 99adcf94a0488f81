package web

import (
	"testing"

	"github.com/instancehub/instancehub"
)

// TestRefreshMessage: what a Refresh found, its numbers in words that
// agree with them.
func TestRefreshMessage(t *testing.T) {
	for _, tt := range []struct {
		report instancehub.SyncReport
		want   string
	}{
		{instancehub.SyncReport{}, "Refreshed: no instance to compare with Azure."},
		{instancehub.SyncReport{Checked: 1}, "Refreshed: the instance is as Azure reports it."},
		{instancehub.SyncReport{Checked: 40}, "Refreshed: all 40 instances are as Azure reports them."},
		{instancehub.SyncReport{Checked: 40, Changed: 2}, "Refreshed: 2 changed outside the portal."},
		{instancehub.SyncReport{Checked: 40, Changed: 2, Missing: 1}, "Refreshed: 2 changed outside the portal, 1 no longer exists in Azure."},
		{instancehub.SyncReport{Checked: 40, Changed: 3, Missing: 2}, "Refreshed: 3 changed outside the portal, 2 no longer exist in Azure."},
	} {
		if got := refreshMessage(tt.report); got != tt.want {
			t.Errorf("refreshMessage(%+v) = %q, want %q", tt.report, got, tt.want)
		}
	}
}
