package amlyaml_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/amlyaml"
)

// problemText is how every problem begins: where it is.
var problemText = regexp.MustCompile(`^line \d+(, column \d+)?: `)

// FuzzDecode checks that Decode never panics, refuses with one EINVALID
// error whose every field says where, keeps nothing over its bound, and
// that what it accepts is written back and read again as the same.
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob("testdata/*.*")
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: a\ntype: computeinstance\ntags: &a {x: *a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := amlyaml.Decode(data)
		if err != nil {
			var e *instancehub.Error
			if !errors.As(err, &e) || e.Code != instancehub.EINVALID || len(e.Fields) == 0 {
				t.Fatalf("refused with %#v", err)
			}
			for k, v := range e.Fields {
				if !problemText.MatchString(v) {
					t.Fatalf("field %s: %q says not where", k, v)
				}
			}
			return
		}
		checkBounds(t, &file.Request)
		checkRoundTrip(t, file)
	})
}

func checkBounds(t *testing.T, r *instancehub.CreateRequest) {
	t.Helper()
	strs := []string{r.Name, r.Region, r.VMSize, r.SSHPublicKey, r.VirtualNetwork, r.Subnet, r.AssignTo, r.IdleMinutes, r.Description}
	for k, v := range r.Tags {
		strs = append(strs, k, v)
	}
	strs = append(strs, r.Identity.UserAssigned...)
	for _, s := range r.Schedules {
		strs = append(strs, s.Action, s.Kind, s.Cron, s.Times, s.TimeZone)
		strs = append(strs, s.WeekDays...)
		if len(s.WeekDays) > 7 {
			t.Fatalf("%d week days", len(s.WeekDays))
		}
	}
	for _, s := range strs {
		if len(s) > amlyaml.MaxFileSize {
			t.Fatalf("a string of %d bytes", len(s))
		}
	}
	if len(r.Tags) > 1000 || len(r.Identity.UserAssigned) > 1000 || len(r.Schedules) > instancehub.MaxSchedules || len(r.IdleMinutes) > 8 {
		t.Fatalf("over a bound: %d tags, %d identities, %d schedules, idle %q", len(r.Tags), len(r.Identity.UserAssigned), len(r.Schedules), r.IdleMinutes)
	}
}
