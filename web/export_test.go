package web

import "bytes"

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
