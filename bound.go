package instancehub

import (
	"fmt"
	"unicode/utf8"
)

// Bounds of what people type. Anything a stranger can send ends up in the
// database, the audit log and the pages that show them, so nothing is kept
// longer than what its purpose needs.
const (
	// MaxEmailLength is RFC 5321's limit on an address in a mail path.
	MaxEmailLength = 254
	// MaxSubjectLength bounds who an identity provider says signed in:
	// OpenID Connect's sub has at most 255 characters, and the issuer is
	// put in front of it.
	MaxSubjectLength = 1024
	// MaxDisplayNameLength bounds a person's display name.
	MaxDisplayNameLength = 200
	// MaxSearchLength bounds a search of the list and a filter of the log.
	MaxSearchLength = 200
	// MaxSSHKeyLength bounds a whole public key line: an RSA key of 16384
	// bits takes under 3 KiB.
	MaxSSHKeyLength = 16 << 10
	// MaxSSHKeyCommentLength bounds the comment after the key.
	MaxSSHKeyCommentLength = 256
	// MaxResourceNameLength bounds the names of Azure resources a form
	// picks (region, VM size, virtual network, subnet, quota family): Azure
	// allows at most 80 characters for a subnet, fewer for the others.
	MaxResourceNameLength = 80
	// MaxResourceIDLength bounds a resource ID a file names (a subnet's):
	// a subscription, a resource group of 90 characters and names of 80
	// take well under it.
	MaxResourceIDLength = 512
	// MaxAuditTargetLength and MaxAuditReasonLength bound what an audit
	// event keeps of its target and reason.
	MaxAuditTargetLength = 300
	MaxAuditReasonLength = 500
	// MaxSourceLength bounds a network address: an IPv6 address with a
	// zone takes well under it.
	MaxSourceLength = 64
)

// CutMarker ends a value that was cut to its bound, so that a reader knows
// it is not whole.
const CutMarker = "…[cut]"

// Clip returns s when it has at most limit bytes, else its longest prefix that
// ends on a character boundary and leaves room for CutMarker, followed by
// CutMarker: at most limit bytes in all, and never half a character.
func Clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	if limit < len(CutMarker) {
		return Prefix(s, limit)
	}
	return Prefix(s, limit-len(CutMarker)) + CutMarker
}

// Prefix returns the longest prefix of s of at most limit bytes that ends on
// a character boundary: a search too long to mean anything is cut silently.
func Prefix(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := max(0, limit)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Tail returns the longest suffix of s of at most limit bytes that starts
// on a character boundary, after a line saying the start was cut: a log
// keeps its end, where a failure shows.
func Tail(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const cut = "[…earlier output cut]\n"
	n := len(s) - max(0, limit-len(cut))
	for n < len(s) && !utf8.RuneStart(s[n]) {
		n++
	}
	return cut + s[n:]
}

// TooLong returns the field error of a value longer than limit bytes, or nil.
func TooLong(field, what, value string, limit int) error {
	if len(value) <= limit {
		return nil
	}
	return FieldError(field, fmt.Sprintf("%s is too long: at most %d bytes, and this one has %d.", what, limit, len(value)))
}
