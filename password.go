package instancehub

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password a local account may have.
const MinPasswordLength = 10

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id into a PHC string
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", FieldError("password", fmt.Sprintf("The password must be at least %d characters long.", MinPasswordLength))
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// hashSlots bounds how many passwords are hashed at once: each takes 19 MiB,
// and a burst of sign-ins must not exhaust the server's memory.
var hashSlots = make(chan struct{}, 4)

// checkPasswordLimited is CheckPassword within the bound, waiting for a
// slot as long as ctx allows.
func checkPasswordLimited(ctx context.Context, hash, password string) (bool, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return CheckPassword(hash, password), nil
}

// dummyHash is checked against when an account does not exist, so that
// sign-in takes as long for unknown emails as for known ones. It is a
// constant (the hash of "instancehub-dummy-password" with the parameters
// above; a test keeps them in step) rather than made at start: making it
// took 19 MiB and 30 ms of every start, and no account can have it.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$AxjNpj6pjazM4X6SWm3WzQ$XpMSHTcl3KUTyrAyxSniU2NkMMCnueYgDy9Ok1D10cY"
