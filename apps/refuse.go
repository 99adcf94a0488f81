package apps

import (
	"fmt"
	"html"
	"net/http"
)

// plainRefusal is the refusal page when the portal gives none of its look.
func plainRefusal(w http.ResponseWriter, _ *http.Request, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><meta charset=\"utf-8\"><title>%s</title>\n<h1>%s</h1>\n<p>%s</p>\n</html>\n",
		http.StatusText(status), http.StatusText(status), html.EscapeString(message))
}
