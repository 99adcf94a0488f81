package web

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestComputeEncoderMatchesEncodingJSON fills every field of the list's
// wire types by reflection (nil, empty and full; strings that need escaping
// and strings that do not) and checks that the hand encoder writes exactly
// what marshalJSON writes. A field added to a wire type is filled here too,
// so an encoder that does not write it fails.
func TestComputeEncoderMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 5))
	for i := range 3000 {
		var out listJSON[computeJSON]
		fill(r, reflect.ValueOf(&out).Elem(), 0)
		want, err := marshalJSON(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendComputeList(nil, &out); !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// FuzzAppendString checks the encoder's strings against encoding/json's.
func FuzzAppendString(f *testing.F) {
	for _, s := range fillStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := marshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := append(appendString(nil, s), '\n'); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

var fillStrings = []string{"", "ci-42", "Contributor", `a "quoted" \ path`, "<b>&amp;</b>", "Zoë’s 🚀", "line\nbreak\ttab\x00\x1f\x7f",
	"\u2028\u2029", "bad \xff\xfe utf-8", "https://portal.example:8443/instances/ci-1/apps/jupyter-lab/"}

// fill sets v, and everything in it, at random: pointers, slices and maps
// nil, empty or holding one to three of their elements (empty when deep:
// apiErrorBody holds its own kind).
func fill(r *rand.Rand, v reflect.Value, depth int) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		zones := []*time.Location{time.UTC, time.FixedZone("", -7*3600-30*60), time.FixedZone("CET", 3600)}
		t := time.UnixMilli(r.Int64N(4_000_000_000_000)).In(zones[r.IntN(len(zones))])
		if r.IntN(2) == 0 {
			t = t.Add(time.Duration(r.IntN(1e9)))
		}
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if r.IntN(3) == 0 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			v.SetString(string(b))
			return
		}
		v.SetString(fillStrings[r.IntN(len(fillStrings))])
	case reflect.Int, reflect.Int64:
		v.SetInt(r.Int64N(2_000_000) - 1_000_000)
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(r, v.Elem(), depth+1)
		}
	case reflect.Slice:
		switch n := r.IntN(5) - 1; {
		case n < 0:
		case depth > 8:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fill(r, v.Index(i), depth+1)
			}
		}
	case reflect.Map:
		if n := r.IntN(5) - 1; n >= 0 {
			m := reflect.MakeMap(v.Type())
			for range n {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fill(r, k, depth+1)
				fill(r, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(r, v.Field(i), depth+1)
		}
	default:
		panic("fill: no case for " + v.Type().String())
	}
}
