package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCompareFoldIsLowerCaseOrder: the sync index orders and finds names
// as their lower case compares, whichever of the two is text or bytes.
func TestCompareFoldIsLowerCaseOrder(t *testing.T) {
	const alphabet = "aAbBzZ09-"
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20_000 {
		a, b := word(), word()
		want := strings.Compare(strings.ToLower(a), strings.ToLower(b))
		if got := compareFold([]byte(a), b); got != want {
			t.Fatalf("compareFold(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
}
