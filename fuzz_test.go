package instancehub_test

import (
	"crypto/ed25519"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/instancehub/instancehub"
	"golang.org/x/crypto/ssh"
)

// The fuzz tests check properties of every parser of what people type:
// no panic, bounds that hold, round trips, and refusals that are field
// errors. `make test` runs their seeds; `make fuzz` explores.

// fieldError fails unless err is an EINVALID error on field with a short
// message: a refusal never echoes a whole input back.
func fieldError(t *testing.T, err error, field string) {
	t.Helper()
	msg := instancehub.ErrorFields(err)[field]
	if instancehub.ErrorCode(err) != instancehub.EINVALID || msg == "" {
		t.Fatalf("error %v: want an EINVALID error on %q", err, field)
	}
	if len(msg) > 1000 || !utf8.ValidString(msg) {
		t.Fatalf("message of %d bytes (valid UTF-8: %v)", len(msg), utf8.ValidString(msg))
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"ada-gpu", "a", "Ab1", "ab-1", "ab-1c", "abc-", "1abc", "ab_c", "é-name", "  ", "abcdefghijklmnopqrstuvwxyz", "ab\x00c", "\xff\xfe\xfd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := instancehub.ValidateName(name)
		if err != nil {
			fieldError(t, err, "name")
			return
		}
		if n := len(name); n < instancehub.MinNameLength || n > instancehub.MaxNameLength {
			t.Fatalf("%q accepted with %d bytes", name, n)
		}
		for i, r := range name {
			letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			if !letter && (i == 0 || r != '-' && (r < '0' || r > '9')) {
				t.Fatalf("%q accepted with %q at %d", name, r, i)
			}
		}
	})
}

// Keys of each accepted type; the ed25519 one is made from a fixed seed.
var seedKeys = []string{
	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGxlY+oPMwfpzArYY6+TBvNg2gW0/oz2V8JlQdztsQfXZJ6A4DtmwJd1GcUK7Nx81/yuMgLRyPxf8hje3KfC5Zc=",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDe6sbPHX0fEK4uoI9tljq4yeV52J+GKpumqCMDh+Cy4LQNe8R6NH8lJWvOdspoaTAjpcPNuvOSelI5IBpGInhnqhb+StTGwyuD8v95u8RNjL/1ePU5jTKgHSc40HBvK3hkpnHGU4O1vQl7sfY1aOOVZnfXIDyUoIJbokMaI+bgmd8DiPoyHjHd2HyFcpJWz8Sq9TIoZPX3QGysn6pIYZq97cKnDjsTn5iyZ/J03jRdH6vQAvFV6A7Bqz3MRVXHzdNp0u9+jyqjkKhNEl1Qga5G8a+j7lbE3bOpJuvq5HwJGGjzeK3a5qKqfCrOcVefDPjmx8Uu50LBS1Z0qkpuJsr3",
}

func FuzzParseSSHPublicKey(f *testing.F) {
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		f.Fatal(err)
	}
	ed := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	for _, s := range append(seedKeys, ed, ed+" ada@laptop", ed+" a comment with spaces", " "+ed+"\n", ed+" "+strings.Repeat("c", 300),
		`command="ls" `+ed, ed+"\n"+ed, "-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519 AAAA", "", "ssh-dss AAAAB3NzaC1kc3M=") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, err := instancehub.ParseSSHPublicKey(s)
		if err != nil {
			fieldError(t, err, "ssh_public_key")
			return
		}
		if len(line) > instancehub.MaxSSHKeyLength || strings.ContainsAny(line, "\r\n") {
			t.Fatalf("accepted a line of %d bytes, or of several lines: %q", len(line), line)
		}
		again, err := instancehub.ParseSSHPublicKey(line)
		if err != nil || again != line {
			t.Fatalf("the normalised key %q parses as %q, %v", line, again, err)
		}
		_, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil || len(comment) > instancehub.MaxSSHKeyCommentLength {
			t.Fatalf("accepted a comment of %d bytes (%v)", len(comment), err)
		}
	})
}

func FuzzParseWorkspaceLimit(f *testing.F) {
	for _, s := range []string{"", " ", "0", "8", " 64 ", "007", "-1", "+5", "1e3", "1.5", "1000000", "1000001", "99999999999999999999", "٣", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := instancehub.ParseWorkspaceLimit(s)
		if err != nil {
			fieldError(t, err, "limit")
			return
		}
		if n == -1 {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("%q read as no limit", s)
			}
			return
		}
		if n < 0 || n > instancehub.MaxWorkspaceLimit {
			t.Fatalf("%q read as %d, out of bounds", s, n)
		}
		if again, err := instancehub.ParseWorkspaceLimit(strconv.Itoa(n)); err != nil || again != n {
			t.Fatalf("%q read as %d, which reads back as %d, %v", s, n, again, err)
		}
	})
}

func FuzzParseInstanceSort(f *testing.F) {
	for _, s := range []string{"", "name", "-name", "created", "-created", "NAME", "name;drop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		switch got := instancehub.ParseInstanceSort(s); got {
		case instancehub.SortNameAsc, instancehub.SortNameDesc, instancehub.SortCreatedAsc, instancehub.SortCreatedDesc:
			if string(got) != s && got != instancehub.SortCreatedDesc {
				t.Fatalf("%q read as %q", s, got)
			}
		default:
			t.Fatalf("%q read as the unknown order %q", s, got)
		}
	})
}

func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "short", strings.Repeat("é", 400), strings.Repeat("a", 1000), "\xff\xfe" + strings.Repeat("日本", 200)} {
		f.Add(s, 300)
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 4096
		if limit < 0 {
			limit = -limit
		}
		got := instancehub.Clip(s, limit)
		switch {
		case len(s) <= limit && got != s:
			t.Fatalf("Clip(%q, %d) = %q, want it whole", s, limit, got)
		case len(got) > limit:
			t.Fatalf("Clip(%q, %d) = %q: %d bytes", s, limit, got, len(got))
		case len(s) > limit && limit >= len(instancehub.CutMarker) && !strings.HasSuffix(got, instancehub.CutMarker):
			t.Fatalf("Clip(%q, %d) = %q, without the marker", s, limit, got)
		case !strings.HasPrefix(s, strings.TrimSuffix(got, instancehub.CutMarker)) && got != s:
			t.Fatalf("Clip(%q, %d) = %q, not a prefix", s, limit, got)
		case utf8.ValidString(s) && !utf8.ValidString(got):
			t.Fatalf("Clip(%q, %d) = %q cuts a character", s, limit, got)
		}
	})
}
