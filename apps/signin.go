package apps

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

const (
	// ticketPath is where an application's origin redeems a ticket. No
	// application serves under /_instancehub/.
	ticketPath = "/_instancehub/ticket"
	// cookieLifetime bounds a sign-in on an application's origin; each
	// request also needs the portal session to be alive.
	cookieLifetime = 12 * time.Hour
	cookieBase     = "instancehub_app"
)

// appCookie is the sealed content of the gateway's cookie on one
// application's origin.
type appCookie struct {
	UserID   int64  `json:"u"`
	Instance string `json:"n"`
	App      string `json:"a"`
	Session  string `json:"s"`
	Expires  int64  `json:"e"`
}

// OpenURL checks that the signed-in user of ctx may open the application
// now and returns where their browser goes next. Without a state (a link
// on the portal), that is the application's origin, which binds the
// sign-in to the browser and sends it back with one (state.go); with the
// state, a URL that signs that browser, and only it, in there once.
// EINVALID when state is not one the origin made.
func (g *Gateway) OpenURL(ctx context.Context, sessionToken, name, slug, state string) (string, error) {
	inst, app, err := g.cfg.Service.OpenApplication(ctx, name, slug)
	if err != nil {
		return "", err
	}
	user := instancehub.UserFromContext(ctx)
	if user == nil || sessionToken == "" {
		return "", instancehub.Errorf(instancehub.EUNAUTHORIZED, "Sign in to open applications.")
	}
	// Asked here, so that an application that cannot run says why on the
	// portal's page rather than after the redirect.
	if _, _, err := g.cfg.Upstreams.Upstream(ctx, inst, app); err != nil {
		return "", err
	}
	name = strings.ToLower(inst.Name)
	if state == "" {
		return g.appURL(name, app.Slug, startPath, nil), nil
	}
	if !validDigest(state) {
		return "", instancehub.Errorf(instancehub.EINVALID, "This address does not open %s. Open it from the portal's link.", app.Label)
	}
	t := ticket{
		ID: newTicketID(), UserID: user.ID, Instance: name, App: app.Slug, Session: sessionToken,
		State: state, Expires: g.cfg.Now().Add(TicketLifetime).Unix(),
	}
	return g.appURL(t.Instance, t.App, ticketPath, url.Values{"t": {g.tickets.seal(t)}}), nil
}

// redeem exchanges a ticket for the application origin's own cookie and
// sends the browser on to the application. A forged, expired, replayed or
// another application's ticket is refused, as is one whose session ended
// and one brought by another browser than the one it was made for. The
// ticket is spent before its browser is checked, so that a copy read
// from a log or a screen is already spent.
func (g *Gateway) redeem(w http.ResponseWriter, r *http.Request, name, slug string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet {
		g.refuse(w, r, instancehub.Errorf(instancehub.EINVALID, "Open the application from the portal."))
		return
	}
	t, err := g.checkTicket(r.URL.Query().Get("t"), name, slug)
	if err == nil {
		err = g.spent.SpendTicket(r.Context(), t.ID, time.Unix(t.Expires, 0), g.cfg.Now())
	}
	var st *appState
	if err == nil {
		st, err = g.takeState(w, r, t.State)
	}
	var holder *opened
	if err == nil {
		holder, err = g.checkHolder(r.Context(), t, name, slug)
	}
	if err != nil {
		g.refuse(w, r, err)
		return
	}
	g.cfg.Service.ApplicationOpened(instancehub.NewContextWithUser(r.Context(), holder.user), holder.inst, holder.app)
	c := appCookie{UserID: t.UserID, Instance: t.Instance, App: t.App, Session: t.Session,
		Expires: g.cfg.Now().Add(cookieLifetime).Unix()}
	http.SetCookie(w, g.cookie(g.cookies.seal(c)))
	landing := g.cfg.Landing[slug]
	if st.Next != "" {
		// A path of this origin, whatever it holds ("//elsewhere" too).
		landing = g.origins.origin(g.origins.host(name, slug)) + st.Next
	} else if landing == "" {
		landing = "/"
	}
	http.Redirect(w, r, landing, http.StatusSeeOther)
}

func (g *Gateway) checkTicket(sealed, name, slug string) (*ticket, error) {
	var t ticket
	if sealed == "" || len(sealed) > 2048 || g.tickets.open(sealed, &t) != nil {
		return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "This sign-in link is not valid. Open the application again from the portal.")
	}
	if !g.cfg.Now().Before(time.Unix(t.Expires, 0)) {
		return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "This sign-in link has expired. Open the application again from the portal.")
	}
	if !t.names(name, slug) {
		return nil, instancehub.Errorf(instancehub.EFORBIDDEN, "This sign-in link is for another application.")
	}
	return &t, nil
}

// opened is who opens which application, once a ticket is redeemed.
type opened struct {
	user *instancehub.User
	inst *instancehub.Instance
	app  instancehub.Application
}

// checkHolder checks that the ticket's session is still its user's and that
// they may still open the application.
func (g *Gateway) checkHolder(ctx context.Context, t *ticket, name, slug string) (*opened, error) {
	user, inst, app, err := g.authorize(ctx, t.Session, name, slug)
	if err == nil && user.ID != t.UserID {
		err = instancehub.Errorf(instancehub.EUNAUTHORIZED, "This sign-in link is not valid. Open the application again from the portal.")
	}
	if err != nil {
		return nil, err
	}
	return &opened{user: user, inst: inst, app: app}, nil
}

// cookie is the gateway's cookie on an application's origin: host-only (no
// Domain), so no other instance's origin receives it, and __Host- over TLS,
// so no sibling origin can set one in its place.
func (g *Gateway) cookie(value string) *http.Cookie {
	return &http.Cookie{
		Name: g.cookieName(), Value: value, Path: "/",
		HttpOnly: true, Secure: g.origins.scheme == "https", SameSite: http.SameSiteLaxMode,
	}
}

func (g *Gateway) cookieName() string {
	if g.origins.scheme == "https" {
		return "__Host-" + cookieBase
	}
	return cookieBase
}

// readCookie returns the sign-in on this application's origin. The cookie
// must have been made for this very instance and application.
func (g *Gateway) readCookie(r *http.Request, name, slug string) (*appCookie, error) {
	signIn := instancehub.Errorf(instancehub.EUNAUTHORIZED, "Open %s from the portal to sign in to it.", name)
	raw, err := r.Cookie(g.cookieName())
	if err != nil {
		return nil, signIn
	}
	var c appCookie
	if g.cookies.open(raw.Value, &c) != nil || !g.cfg.Now().Before(time.Unix(c.Expires, 0)) {
		return nil, signIn
	}
	if !strings.EqualFold(c.Instance, name) || c.App != slug {
		return nil, signIn
	}
	return &c, nil
}
