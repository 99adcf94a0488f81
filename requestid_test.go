package instancehub_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestAResumedOperationNamesItsRequest: the operation keeps the ID of the
// request that started it, and after a restart the portal that resumes it
// names that request on each line the operation logs.
func TestAResumedOperationNamesItsRequest(t *testing.T) {
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0.2) // the VM step ≈ 1.6 s
	const id = "create-resume-me-7"
	if _, err := p.Service.CreateInstance(instancehub.NewContextWithRequestID(p.Ctx, id), testportal.Request("resume-me")); err != nil {
		t.Fatal(err)
	}
	p.WaitStep(t, "resume-me", "virtual machine")
	p.Close()

	var logs lockedBuffer
	log := slog.New(instancehub.WithRequestIDs(slog.NewJSONHandler(&logs, nil)))
	p2 := testportal.OpenWired(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db"), Latency: 0.2}, testportal.Wiring{Logger: log})
	inst := p2.WaitState(t, "resume-me", instancehub.StateRunning)
	op, err := p2.DB.FindOperation(p2.Ctx, inst.LastOperation.ID)
	if err != nil || op.RequestID != id {
		t.Fatalf("the operation keeps request %q (%v), want %q", op.RequestID, err, id)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(logs.bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line["op"] != float64(op.ID) {
			continue
		}
		lines = append(lines, line["msg"].(string))
		if line[instancehub.RequestIDKey] != id {
			t.Errorf("a line of the resumed operation names %v: %s", line[instancehub.RequestIDKey], sc.Text())
		}
	}
	if len(lines) < 2 || lines[0] != "resuming operation" || lines[len(lines)-1] != "operation succeeded" {
		t.Errorf("the resumed operation's lines: %q", lines)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
