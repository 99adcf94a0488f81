package instancehub

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

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

// The limits on guessing passwords. Each attempt is judged by the failed
// sign-ins and the attempts under way in the last FailureWindow: those at
// its account from its address, at its account from everywhere, and from
// its address at every account.
//
//   - At one account from one address, after FreeFailures, each attempt
//     waits twice as long as the one before, up to MaxSignInDelay.
//   - An account keeps guessing bounded: once it has MaxFailuresPerAccount,
//     an address that already has FreeFailures there is refused there,
//     unchecked, until the window passes or an Owner unlocks the account.
//     Its owner signing in from elsewhere is not.
//   - An address's failures at every account slow its attempts once they
//     pass AddressFreeFailures, as an account's do after FreeFailures, but
//     never refuse them: a colleague behind the same office address or VPN
//     signs in with a right password, whatever others there guessed.
//
// A right password never counts as a failure.
const (
	FreeFailures          = 3
	FirstSignInDelay      = time.Second
	MaxSignInDelay        = 30 * time.Second
	MaxFailuresPerAccount = 20
	AddressFreeFailures   = 20
	FailureWindow         = 15 * time.Minute
	// MaxLoginCount is where counting stops: no limit above looks
	// further, and reading every row of a flood would hold the store's
	// write lock for long at each attempt.
	MaxLoginCount = 50
)

// SignInDelay is how long a sign-in waits after so many failures for its
// account from its address.
func SignInDelay(failures int) time.Duration {
	if failures < FreeFailures {
		return 0
	}
	d := FirstSignInDelay
	for range failures - FreeFailures {
		if d *= 2; d >= MaxSignInDelay {
			return MaxSignInDelay
		}
	}
	return d
}

// GeneratePassword returns a random 20-character password.
func GeneratePassword() string {
	return rand.Text()[:20]
}
