package engine_test

import (
	"os"
	"testing"

	"github.com/instancehub/instancehub/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
