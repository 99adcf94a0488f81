package oidc

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"

	"github.com/instancehub/instancehub"
)

// claims are the claims of a verified ID token, as decoded from JSON.
type claims map[string]any

// str returns the named claim when it is a string, "" otherwise.
func (c claims) str(name string) string {
	s, _ := c[name].(string)
	return strings.TrimSpace(s)
}

// isEntra reports whether the token comes from Microsoft Entra ID, whose
// tokens name the tenant in tid.
func (c claims) isEntra() bool { return c.str("tid") != "" }

// identityFromClaims says who signed in, for Microsoft Entra ID and any
// standard provider alike. It refuses a token without subject or email.
func identityFromClaims(c claims, groupsClaim string) (*instancehub.Identity, error) {
	subject := subjectOf(c)
	if subject == "" {
		return nil, refuse(msgNoSubject, errors.New("the ID token has no sub claim"))
	}
	email, err := emailOf(c)
	if err != nil {
		return nil, err
	}
	return &instancehub.Identity{
		Subject: subject,
		Email:   email,
		Name:    nameOf(c, email),
		Groups:  groupsOf(c, groupsClaim),
	}, nil
}

// subjectOf prefers Entra's tenant and object IDs: Entra's sub differs for
// each application, while tid and oid name the person the same way
// everywhere (Microsoft Graph, Azure role assignments). Any other sub is
// unique only within its issuer.
func subjectOf(c claims) string {
	if tid, oid := c.str("tid"), c.str("oid"); tid != "" && oid != "" {
		return "entra:" + tid + ":" + oid
	}
	if sub := c.str("sub"); sub != "" {
		return c.str("iss") + "#" + sub
	}
	return ""
}

// emailOf takes the email claim. Entra often leaves it out (a user without a
// mailbox, or a tenant that does not emit it) but its preferred_username and
// upn are usually the sign-in address; other providers' preferred_username
// may be anything the user chose, so only Entra's is trusted.
func emailOf(c claims) (string, error) {
	if v := c["email_verified"]; v == false || v == "false" {
		return "", refuse(msgEmailUnverified, errors.New("the provider says email_verified is false"))
	}
	if email := c.str("email"); isAddress(email) {
		return email, nil
	}
	if c.isEntra() {
		for _, name := range []string{"preferred_username", "upn"} {
			if v := c.str(name); isAddress(v) {
				return v, nil
			}
		}
	}
	return "", refuse(msgNoEmail, errors.New("neither the ID token nor UserInfo has an email claim that is an address (nor, from Entra, preferred_username or upn)"))
}

// isAddress reports whether s is a bare email address, not a user name nor
// a "Name <address>" form.
func isAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// nameOf falls back on the given and family names, then on the email's
// local part, so that every person has something to be called.
func nameOf(c claims, email string) string {
	if name := c.str("name"); name != "" {
		return name
	}
	if name := strings.TrimSpace(c.str("given_name") + " " + c.str("family_name")); name != "" {
		return name
	}
	local, _, _ := strings.Cut(email, "@")
	return local
}

// groupsOf reads the configured claim, which providers send as an array of
// strings, or as a single string when there is one value.
func groupsOf(c claims, name string) []string {
	if name == "" {
		return nil
	}
	switch v := c[name].(type) {
	case string:
		if v = strings.TrimSpace(v); v != "" {
			return []string{v}
		}
	case []any:
		var groups []string
		for _, g := range v {
			if s, ok := g.(string); ok && strings.TrimSpace(s) != "" {
				groups = append(groups, strings.TrimSpace(s))
			}
		}
		return groups
	}
	return nil
}

// lacksProfile reports whether the ID token leaves out an email address, a
// name or the configured groups claim, which UserInfo may hold instead.
func lacksProfile(c claims, groupsClaim string) bool {
	_, err := emailOf(c)
	return err != nil || c.str("name") == "" && c.str("given_name") == "" && c.str("family_name") == "" ||
		groupsClaim != "" && c[groupsClaim] == nil
}

// profileClaims are the claims UserInfo may add to the ID token's. Anything
// else, tid and oid above all (they make the subject), is the ID token's
// alone: UserInfo is not signed, and it describes the person, not the sign-in.
var profileClaims = []string{"email", "name", "given_name", "family_name"}

// withUserInfo lays UserInfo's profile claims under the ID token's: a claim
// the token has wins. UserInfo must be about the token's subject (OpenID
// Connect Core 5.3.2), or else it may describe someone else entirely.
func withUserInfo(c, info claims, groupsClaim string) (claims, error) {
	if c.str("sub") == "" {
		return nil, refuse(msgNoSubject, errors.New("the ID token has no sub claim"))
	}
	sub, _ := info["sub"].(string)
	if want, _ := c["sub"].(string); sub != want {
		return nil, refuse(msgOtherSubject, fmt.Errorf("UserInfo's sub %q is not the ID token's %q", sub, want))
	}
	merged := maps.Clone(c)
	names := profileClaims
	if groupsClaim != "" {
		names = append(slices.Clip(names), groupsClaim)
	}
	for _, name := range names {
		if _, ok := merged[name]; !ok && info[name] != nil {
			merged[name] = info[name]
		}
	}
	// Whether the email is verified is said by whoever gave the email.
	if _, ok := c["email"]; !ok {
		delete(merged, "email_verified")
		if v, ok := info["email_verified"]; ok {
			merged["email_verified"] = v
		}
	}
	return merged, nil
}
