package apps

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"testing"
	"time"
)

// frame builds a masked WebSocket frame, as a browser sends it.
func frame(fin bool, op byte, payload []byte) []byte {
	var b bytes.Buffer
	first := op
	if fin {
		first |= 0x80
	}
	b.WriteByte(first)
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(0x80 | byte(n))
	case n <= 0xffff:
		b.WriteByte(0x80 | 126)
		_ = binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(0x80 | 127)
		_ = binary.Write(&b, binary.BigEndian, uint64(n))
	}
	b.Write([]byte{1, 2, 3, 4}) // mask key; the payload's bytes do not matter here
	b.Write(payload)
	return b.Bytes()
}

func TestFrameCounterCountsDataMessagesOnly(t *testing.T) {
	var stream []byte
	stream = append(stream, frame(true, 1, []byte("print(6*7)"))...)               // text: counts
	stream = append(stream, frame(true, 9, nil)...)                                // ping
	stream = append(stream, frame(true, 10, []byte("pong"))...)                    // pong
	stream = append(stream, frame(false, 2, bytes.Repeat([]byte{1}, 300))...)      // binary, 16-bit length: counts
	stream = append(stream, frame(true, 0, bytes.Repeat([]byte{0x81}, 70_000))...) // its continuation, 64-bit length
	stream = append(stream, frame(true, 1, nil)...)                                // empty text: counts
	stream = append(stream, frame(true, 8, []byte{3, 232})...)                     // close
	for _, chunk := range []int{1, 3, 7, 4096, len(stream)} {
		n := 0
		f := frameCounter{onMessage: func() { n++ }}
		for rest := stream; len(rest) > 0; {
			k := min(chunk, len(rest))
			f.observe(rest[:k])
			rest = rest[k:]
		}
		if n != 3 {
			t.Errorf("read %d bytes at a time: %d messages, want 3", chunk, n)
		}
	}
}

func TestCountsAsActivity(t *testing.T) {
	tests := []struct {
		desc   string
		method string
		header map[string]string
		want   bool
	}{
		{"page load", "GET", map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, true},
		{"kernel polling", "GET", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "application/json"}, false},
		{"a script", "GET", map[string]string{"Sec-Fetch-Mode": "no-cors"}, false},
		{"save", "PUT", map[string]string{"Sec-Fetch-Mode": "cors"}, true},
		{"new kernel", "POST", nil, true},
		{"delete", "DELETE", nil, true},
		{"old browser, page", "GET", map[string]string{"Accept": "text/html,application/xhtml+xml"}, true},
		{"old browser, XHR", "GET", map[string]string{"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}, false},
		{"head", "HEAD", map[string]string{"Sec-Fetch-Mode": "navigate"}, true},
		{"preflight", "OPTIONS", nil, false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, "http://x/", nil)
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		if got := countsAsActivity(r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.desc, got, tt.want)
		}
	}
}

func TestActivityIsThrottledPerInstance(t *testing.T) {
	var got []string
	a := newActivity(func(name string, _ time.Time) { got = append(got, name) }, 5*time.Second)
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	a.touch("adas-box", t0)
	a.touch("Adas-Box", t0.Add(time.Second))
	a.touch("bobs-box", t0.Add(time.Second))
	a.touch("adas-box", t0.Add(5*time.Second))
	want := []string{"adas-box", "bobs-box", "adas-box"}
	if len(got) != len(want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("reported %v, want %v", got, want)
		}
	}
}
