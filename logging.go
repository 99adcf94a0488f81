package instancehub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// RequestIDKey is the attribute that names a request in the log, on every
// line logged for it and for the operation it starts.
const RequestIDKey = "request_id"

// MaxRequestIDLength bounds a request ID taken from a client.
const MaxRequestIDLength = 64

// NewRequestID makes a request ID: 16 random bytes in hex, as nginx's
// $request_id.
func NewRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidRequestID reports whether id, sent by a client or a proxy in front,
// may name its request: 1 to MaxRequestIDLength letters, digits, '-', '_',
// '.' or ':', so that it can neither forge log lines nor carry a payload
// into them.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLength {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// WithRequestIDs wraps h so that a line logged with a request's context
// (InfoContext and the like) names the request's ID.
func WithRequestIDs(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(RequestIDKey, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
