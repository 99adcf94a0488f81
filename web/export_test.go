package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
)

// KeptEncoded is the page at uri as kept for acceptEncoding, in whichever
// session kept it: the bytes the page cache sends to that Accept-Encoding.
func (s *Server) KeptEncoded(uri, acceptEncoding string) (body []byte, encoding string, ok bool) {
	s.pages.mu.Lock()
	defer s.pages.mu.Unlock()
	for k, p := range s.pages.pages {
		if k.uri != uri {
			continue
		}
		if e, found := p.encoded[acceptEncoding]; found {
			return bytes.Clone(e.body), e.encoding, true
		}
	}
	return nil, "", false
}

// KeptCurrent is the sessions (their token's hash, as the service stores
// it) whose page at uri is kept and would be served as kept now.
func (s *Server) KeptCurrent(ctx context.Context, uri string) []string {
	version, ok := s.changes.DataVersion(ctx)
	if !ok {
		return nil
	}
	minute := s.cfg.Now().Unix() / 60
	var keys []pageKey
	s.pages.mu.Lock()
	for k := range s.pages.pages {
		if k.uri == uri {
			keys = append(keys, k)
		}
	}
	s.pages.mu.Unlock()
	var sessions []string
	for _, k := range keys {
		if _, current := s.pages.get(k, version, minute); current {
			sessions = append(sessions, hex.EncodeToString(k.session[:]))
		}
	}
	slices.Sort(sessions)
	return sessions
}
