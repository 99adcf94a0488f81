package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
)

// The portal's short-lived cookies (a single sign-on under way, with its
// PKCE verifier; a message for the next page) are sealed: encrypted and
// authenticated with a key every portal on the database shares (kept in
// it: Config.SealKey), so the browser can neither read nor forge them, a
// value sealed for one cookie is refused in another, and a sign-in begun
// on one replica ends on whichever the callback reaches.

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

// newAEAD returns AES-256-GCM under key, or a fresh random key when nil.
func newAEAD(key []byte) cipher.AEAD {
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // never fails on the platforms Go supports
	}
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
