package views

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestEveryIconHasItsDrawing: icons are drawn by the stylesheet, so an icon
// named in a view without a rule there would be an empty square.
func TestEveryIconHasItsDrawing(t *testing.T) {
	css, err := os.ReadFile(filepath.Join("..", "static", "css", "app.css"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.templ")
	used := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`icon\("([a-z-]+)"\)`).FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, kind := range instancehub.OperationKinds {
		used[actionIcon(kind)] = true
	}
	if len(used) < 10 {
		t.Fatalf("found only %d icons in the views: %v", len(used), used)
	}
	for name := range used {
		if !strings.Contains(string(css), ".i-"+name+" {") && !strings.Contains(string(css), ".i-"+name+", ") {
			t.Errorf("icon %q has no drawing in app.css", name)
		}
	}
	// The list's row buttons are drawn by their names.
	for _, kind := range instancehub.OperationKinds {
		if !strings.Contains(string(css), `.instances button[formaction$="/`+kind.Verb()+`"]`) {
			t.Errorf("the row button %s has no drawing", kind)
		}
	}
}

func TestAuditActionsReadAsWords(t *testing.T) {
	for action, want := range map[string]string{
		"session.signIn":        "Sign in",
		"request.csrf":          "Cross-site request refused",
		"instance.somethingNew": "Instance something new",
	} {
		if got := actionLabel(action); got != want {
			t.Errorf("actionLabel(%q) = %q, want %q", action, got, want)
		}
	}
}
