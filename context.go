package instancehub

import "context"

type contextKey int

const (
	userContextKey contextKey = iota + 1
	sourceContextKey
	requestIDContextKey
)

// NewContextWithSource returns a copy of ctx carrying the network address a
// request came from, for the audit log.
func NewContextWithSource(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, sourceContextKey, addr)
}

// SourceFromContext returns the address a request came from, or "".
func SourceFromContext(ctx context.Context) string {
	addr, _ := ctx.Value(sourceContextKey).(string)
	return addr
}

// NewContextWithUser returns a copy of ctx carrying the signed-in user.
func NewContextWithUser(ctx context.Context, user *User) context.Context {
	return context.WithValue(ctx, userContextKey, user)
}

// UserFromContext returns the signed-in user, or nil.
func UserFromContext(ctx context.Context) *User {
	user, _ := ctx.Value(userContextKey).(*User)
	return user
}

// NewContextWithRequestID returns a copy of ctx carrying the ID of the
// request it serves, which every line logged for the request names, and so
// does every line of an operation the request starts.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDContextKey, id)
}

// RequestIDFromContext returns the ID of the request ctx serves, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDContextKey).(string)
	return id
}
