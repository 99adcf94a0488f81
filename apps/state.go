package apps

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// The hand-off from the portal to an application's origin is bound to the
// browser that asked for it, as OAuth's state binds an authorization
// response to the browser that sent the request (RFC 6749, 10.12) and as
// JupyterHub's user servers bind theirs (HubOAuth's state cookie):
//
//  1. A link on the portal, or a page load on the application's origin
//     without a sign-in, comes to startPath there. The origin sets a state
//     cookie holding a random value and sends the browser to the portal
//     with that value's digest.
//  2. The portal checks the user and issues a ticket carrying the digest.
//  3. The origin redeems the ticket only with the state cookie whose value
//     has that digest, and deletes the cookie.
//
// A ticket link opened in another browser opens nothing: an attacker's own
// ticket sent to a victim (which would sign the victim's browser in to the
// attacker's Jupyter), or one read from a history, a screenshot or a proxy
// log. The state itself never leaves the browser's cookie store, and the
// digest that travels in addresses does not give it.
const (
	startPath = "/_instancehub/start"
	// stateLifetime is long enough to sign in to the portal on the way
	// (a password, or single sign-on); the ticket itself lives 30 s.
	stateLifetime = 10 * time.Minute
	stateBase     = "instancehub_app_state_"
	// maxStates bounds the sign-ins under way in one browser on one
	// origin (tabs restored at once each start one); past it, the next
	// start clears them.
	maxStates = 8
	// maxNextBytes bounds the address a sign-in returns to.
	maxNextBytes = 1024
)

var errOtherBrowser = instancehub.Errorf(instancehub.EUNAUTHORIZED,
	"This sign-in link was made for another browser, or its time is up. Open the application from the portal in this browser.")

// appState is the sealed content of a state cookie.
type appState struct {
	ID      string `json:"i"`
	Next    string `json:"x,omitempty"` // path and query on the origin to land on
	Expires int64  `json:"e"`           // Unix seconds
}

// stateDigest is what the portal and the ticket carry of a state.
func stateDigest(id string) string {
	sum := sha256.Sum256([]byte("instancehub app state v1\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validDigest tells a digest from anything else a URL may carry.
func validDigest(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// start binds a sign-in to this browser: it sets a new state cookie and
// sends the browser to the portal, which issues a ticket for the state's
// digest. next is where to land once signed in: a page's own address, or
// "" for the application's landing page.
func (g *Gateway) start(w http.ResponseWriter, r *http.Request, name, slug, next string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet {
		g.refuse(w, r, instancehub.Errorf(instancehub.EINVALID, "Open the application from the portal."))
		return
	}
	if len(next) > maxNextBytes || !strings.HasPrefix(next, "/") {
		next = ""
	}
	if states := g.stateCookies(r); len(states) >= maxStates {
		for _, c := range states {
			http.SetCookie(w, g.stateCookie(c.Name, "", -1))
		}
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	st := appState{ID: base64.RawURLEncoding.EncodeToString(raw), Next: next,
		Expires: g.cfg.Now().Add(stateLifetime).Unix()}
	digest := stateDigest(st.ID)
	http.SetCookie(w, g.stateCookie(g.stateName(digest), g.states.seal(st), int(stateLifetime/time.Second)))
	http.Redirect(w, r, g.cfg.PortalOpen(name, slug, digest), http.StatusSeeOther)
}

// takeState returns the state of this browser that digest names, and
// deletes its cookie: each state signs in once. errOtherBrowser when this
// browser holds no such state.
func (g *Gateway) takeState(w http.ResponseWriter, r *http.Request, digest string) (*appState, error) {
	if !validDigest(digest) {
		return nil, errOtherBrowser
	}
	name := g.stateName(digest)
	c, err := r.Cookie(name)
	if err != nil {
		return nil, errOtherBrowser
	}
	http.SetCookie(w, g.stateCookie(name, "", -1))
	var st appState
	if g.states.open(c.Value, &st) != nil || !g.cfg.Now().Before(time.Unix(st.Expires, 0)) ||
		subtle.ConstantTimeCompare([]byte(stateDigest(st.ID)), []byte(digest)) != 1 {
		return nil, errOtherBrowser
	}
	return &st, nil
}

// stateName names the cookie of one state, so that sign-ins begun at
// once in several tabs each find their own.
func (g *Gateway) stateName(digest string) string { return g.statePrefix() + digest[:16] }

func (g *Gateway) statePrefix() string {
	if g.origins.scheme == "https" {
		return "__Host-" + stateBase
	}
	return stateBase
}

// stateCookie is host-only, HttpOnly and SameSite=Lax like the gateway's
// own cookie, __Host- over TLS; Lax lets the portal's redirect back to
// the origin, a top-level navigation, carry it.
func (g *Gateway) stateCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: g.origins.scheme == "https", SameSite: http.SameSiteLaxMode,
	}
}

// stateCookies are the state cookies a request carries.
func (g *Gateway) stateCookies(r *http.Request) []*http.Cookie {
	prefix := g.statePrefix()
	var found []*http.Cookie
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, prefix) {
			found = append(found, c)
		}
	}
	return found
}
