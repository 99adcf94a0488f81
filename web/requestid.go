package web

import (
	"net/http"

	"github.com/instancehub/instancehub"
)

// withRequestID names every request, the applications' too: with the ID a
// proxy in front sent in X-Request-Id (nginx's $request_id) when it is
// well-formed and short (instancehub.ValidRequestID), else with a new one,
// so that nothing a client sends reaches the log unchecked. The ID travels
// in the request's context, so every line logged for the request, and for
// an operation it starts, names it (instancehub.WithRequestIDs); it goes
// back in X-Request-Id, for a person reporting a problem to quote, and on
// to an application's server.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !instancehub.ValidRequestID(id) {
			id = instancehub.NewRequestID()
		}
		r.Header.Set("X-Request-Id", id)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(instancehub.NewContextWithRequestID(r.Context(), id)))
	})
}
