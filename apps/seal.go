package apps

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// sealer encrypts and authenticates small values with AES-256-GCM. Tickets
// and cookies both carry the portal session's token, which must stay
// unreadable in URLs, logs and the browser's cookie store, so they are
// sealed rather than only signed. Each purpose has its own key, derived from
// the configured key with HMAC-SHA256, so a cookie never opens as a ticket.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte, purpose string) sealer {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("instancehub apps " + purpose + " v1"))
	block, _ := aes.NewCipher(mac.Sum(nil)) // a 32-byte key never fails
	aead, _ := cipher.NewGCM(block)
	return sealer{aead: aead}
}

func (s sealer) seal(v any) string {
	plain, _ := json.Marshal(v) // only our own structs
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil))
}

var errBadSeal = errors.New("not sealed with this key")

// open fills v from a sealed value; errBadSeal when it was forged, altered
// or sealed for another purpose.
func (s sealer) open(sealed string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return errBadSeal
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return errBadSeal
	}
	if json.Unmarshal(plain, v) != nil {
		return errBadSeal
	}
	return nil
}
