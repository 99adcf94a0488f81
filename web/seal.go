package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
)

// The portal's short-lived cookies (a single sign-on under way, with its
// PKCE verifier; a message for the next page) are sealed: encrypted and
// authenticated with a key made at start, so the browser can neither read
// nor forge them, and a value sealed for one cookie is refused in another.
// A restart only asks those in the middle of a sign-in to begin again.

// sealValue encrypts payload for the cookie named purpose.
func (s *Server) sealValue(purpose string, payload []byte) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, payload, []byte(purpose)))
}

// openValue returns what sealValue sealed for purpose, if it is intact.
func (s *Server) openValue(purpose, value string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, false
	}
	n := s.aead.NonceSize()
	payload, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	return payload, err == nil
}

// newAEAD returns AES-256-GCM under a fresh random key.
func newAEAD() cipher.AEAD {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails on the platforms Go supports
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}
