package engine_test

import (
	"os"
	"testing"

	"github.com/instancehub/instancehub/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster the engine's tests may
// start: without it, each `make test` left one running (two, with
// test-ahead's run) after the engine moved into a package of its own.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
