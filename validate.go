package instancehub

import (
	"crypto/rsa"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// Name limits of a compute instance, from the reference product.
const (
	MinNameLength = 3
	MaxNameLength = 24
)

// ValidateName checks a compute name against the reference product's rules
// and says exactly which rule failed.
func ValidateName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		return FieldError("name", "Enter a name for the compute instance.")
	case n < MinNameLength:
		return FieldError("name", fmt.Sprintf("The name must be at least %d characters long; it has %d.", MinNameLength, n))
	case n > MaxNameLength:
		return FieldError("name", fmt.Sprintf("The name can be at most %d characters long; it has %d.", MaxNameLength, n))
	case !isLetter(rune(name[0])):
		return FieldError("name", "The name must start with a letter.")
	}
	for _, r := range name {
		if !isLetter(r) && !isDigit(r) && r != '-' {
			return FieldError("name", fmt.Sprintf("The name can contain only letters, digits and hyphens; %q is not allowed.", r))
		}
	}
	if i := strings.LastIndexByte(name, '-'); i >= 0 && !strings.ContainsFunc(name[i:], isLetter) {
		return FieldError("name", fmt.Sprintf("A hyphen must be followed by at least one letter, so the name cannot end in %q.", name[i:]))
	}
	return nil
}

func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
func isDigit(r rune) bool  { return '0' <= r && r <= '9' }

// MinRSABits is the smallest RSA key accepted for SSH.
const MinRSABits = 2048

// ParseSSHPublicKey checks a public key in OpenSSH's one-line format
// ("ssh-ed25519 AAAA… comment") and returns it normalised, comment kept.
// RSA keys of at least 2048 bits and ed25519 keys are accepted: they are
// the formats Azure puts on a Linux VM ("SSH key formats supported");
// Azure refuses any other only at the VM step, minutes after the form.
func ParseSSHPublicKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", FieldError("ssh_public_key", "Paste your SSH public key, or turn SSH access off.")
	}
	if len(s) > MaxSSHKeyLength {
		return "", FieldError("ssh_public_key", fmt.Sprintf(
			"This is too long for an SSH public key: at most %d bytes, and this has %d. Paste only the .pub file's one line.", MaxSSHKeyLength, len(s)))
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", FieldError("ssh_public_key", "Paste one key on a single line, as in your .pub file.")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		return "", FieldError("ssh_public_key", "This looks like a PEM file. Paste the OpenSSH public key (the .pub file), which starts with ssh-ed25519 or ssh-rsa.")
	}
	key, comment, options, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return "", FieldError("ssh_public_key", "This is not a valid OpenSSH public key. It should look like “ssh-ed25519 AAAAC3Nza… you@laptop”.")
	}
	if len(options) > 0 {
		return "", FieldError("ssh_public_key", "Remove the options in front of the key; paste only the key itself.")
	}
	switch key.Type() {
	case ssh.KeyAlgoED25519:
	case ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return "", FieldError("ssh_public_key", "Azure does not accept ECDSA keys on its virtual machines; use an ed25519 key (ssh-keygen -t ed25519) or ssh-rsa of 2048 bits or more.")
	case ssh.KeyAlgoRSA:
		if bits := rsaBits(key); bits < MinRSABits {
			return "", FieldError("ssh_public_key", fmt.Sprintf("This RSA key has %d bits; use at least %d bits, or an ed25519 key.", bits, MinRSABits))
		}
	default:
		return "", FieldError("ssh_public_key", fmt.Sprintf("Keys of type %s are not supported. Use ssh-ed25519 or ssh-rsa (2048 bits or more), the formats Azure accepts.", key.Type()))
	}
	if len(comment) > MaxSSHKeyCommentLength {
		return "", FieldError("ssh_public_key", fmt.Sprintf(
			"The comment after the key can be at most %d bytes long; this one has %d. Shorten it, or leave it out.", MaxSSHKeyCommentLength, len(comment)))
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	if comment != "" {
		line += " " + comment
	}
	return line, nil
}

func rsaBits(key ssh.PublicKey) int {
	if ck, ok := key.(ssh.CryptoPublicKey); ok {
		if pub, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok {
			return pub.N.BitLen()
		}
	}
	return 0
}
