package web

import (
	"strconv"
	"strings"
	"testing"
)

// TestComputeFragmentsCountTheirKeys: the kept computes' bound counts their
// keys, whose origin is the Host the client sent.
func TestComputeFragmentsCountTheirKeys(t *testing.T) {
	var f computeFragments
	origin := "http://" + strings.Repeat("h", 1<<20)
	for i := range 20 {
		f.appendCompute(nil, 1, fragmentKey{origin: origin, name: strconv.Itoa(i)}, func(b []byte) []byte { return append(b, "{}"...) })
		held := 0
		for k, json := range f.json {
			held += len(k.origin) + len(k.name) + len(json)
		}
		if held > maxFragmentBytes {
			t.Fatalf("after %d computes, %d bytes kept, more than %d", i+1, held, maxFragmentBytes)
		}
	}
}
