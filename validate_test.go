package instancehub_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"golang.org/x/crypto/ssh"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		want string // a part of the message; "" for valid
	}{
		{"alice-ws", ""},
		{"abc", ""},
		{"A1b2c3", ""},
		{"gpu-box-2a", ""},
		{"a-1b", ""},
		{strings.Repeat("a", 24), ""},
		{"", "Enter a name"},
		{"   ", "Enter a name"},
		{"ab", "at least 3 characters long; it has 2"},
		{strings.Repeat("a", 25), "at most 24 characters long; it has 25"},
		{"1abc", "must start with a letter"},
		{"-abc", "must start with a letter"},
		{"ab_c", `'_' is not allowed`},
		{"ab.c", `'.' is not allowed`},
		{"ab c", `' ' is not allowed`},
		{"work-12", `cannot end in "-12"`},
		{"work-", `cannot end in "-"`},
		{"a-b-12", `cannot end in "-12"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := instancehub.ValidateName(tt.name)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tt.name, err)
				}
				return
			}
			if instancehub.ErrorCode(err) != instancehub.EINVALID {
				t.Fatalf("ValidateName(%q) code = %q, want invalid", tt.name, instancehub.ErrorCode(err))
			}
			if msg := instancehub.ErrorFields(err)["name"]; !strings.Contains(msg, tt.want) {
				t.Errorf("ValidateName(%q) name message = %q, want it to contain %q", tt.name, msg, tt.want)
			}
		})
	}
}

func authorizedKey(t *testing.T, pub any, comment string) string {
	t.Helper()
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	if comment != "" {
		line += " " + comment
	}
	return line
}

func TestParseSSHPublicKey(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	ed := authorizedKey(t, edPub, "alice@laptop")

	tests := []struct {
		desc, key, want, err string
	}{
		{"ed25519 with comment", ed, ed, ""},
		{"surrounding space trimmed", "  " + ed + "\n", ed, ""},
		{"ecdsa, which Azure refuses", authorizedKey(t, &ec.PublicKey, ""), "", "Azure does not accept ECDSA keys"},
		{"rsa 2048", authorizedKey(t, &rsa2048.PublicKey, "bob"), authorizedKey(t, &rsa2048.PublicKey, "bob"), ""},
		{"rsa 1024", authorizedKey(t, &rsa1024.PublicKey, ""), "", "has 1024 bits; use at least 2048"},
		{"empty", "", "", "Paste your SSH public key"},
		{"two lines", ed + "\n" + ed, "", "single line"},
		{"garbage", "ssh-ed25519 not-base64!", "", "not a valid OpenSSH public key"},
		{"private key", "-----BEGIN OPENSSH PRIVATE KEY-----", "", "PEM"},
		{"options", `command="ls" ` + ed, "", "Remove the options"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := instancehub.ParseSSHPublicKey(tt.key)
			if tt.err != "" {
				if msg := instancehub.ErrorFields(err)["ssh_public_key"]; !strings.Contains(msg, tt.err) {
					t.Fatalf("message = %q, want it to contain %q", msg, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSSHPublicKey = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	hash, err := instancehub.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want an argon2id PHC string", hash)
	}
	if !instancehub.CheckPassword(hash, "correct horse battery") {
		t.Error("the right password was refused")
	}
	if instancehub.CheckPassword(hash, "correct horse battery!") {
		t.Error("a wrong password was accepted")
	}
	if instancehub.CheckPassword("$argon2id$garbage", "x") {
		t.Error("a malformed hash was accepted")
	}
	if _, err := instancehub.HashPassword("short"); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("short password: err = %v, want invalid", err)
	}
}

// TestDummyHashMatchesTheParameters: the hash checked for unknown accounts
// costs what a real account's does, and is of the dummy password.
func TestDummyHashMatchesTheParameters(t *testing.T) {
	real, err := instancehub.HashPassword("any-password-1")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[1:4], "$") }
	if params(instancehub.DummyHash) != params(real) {
		t.Fatalf("dummy hash parameters %s, want %s", params(instancehub.DummyHash), params(real))
	}
	if !instancehub.CheckPassword(instancehub.DummyHash, "instancehub-dummy-password") {
		t.Fatal("the dummy hash is not of the dummy password")
	}
}
