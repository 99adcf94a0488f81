package instancehub

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// QuotaRequest is a person's ask for more of a family's vCPUs in a region,
// which the workspace's Owners grant, raising its limit, or decline with a
// reason. The requester hears the answer on their next visit.
type QuotaRequest struct {
	ID       int64
	UserID   int64
	UserName string
	Region   string
	Family   string // a quota family, or TotalRegionalVCPUs
	VCPUs    int    // how many more
	Reason   string // why, in the requester's words
	At       time.Time
	Status   QuotaRequestStatus
	// DecidedBy… are the Owner who granted or declined it, and when.
	DecidedByID   int64
	DecidedByName string
	DecidedAt     time.Time
	// Answer is the Owner's reason for a decline.
	Answer string
}

// QuotaRequestStatus is where a quota request stands.
type QuotaRequestStatus string

// The statuses of a quota request: open until an Owner decides it, once.
const (
	QuotaRequestOpen     QuotaRequestStatus = "open"
	QuotaRequestGranted  QuotaRequestStatus = "granted"
	QuotaRequestDeclined QuotaRequestStatus = "declined"
)

// Bounds of a quota request.
const (
	// MaxQuotaRequestVCPUs bounds what one request asks: far above any
	// family's quota.
	MaxQuotaRequestVCPUs = 10_000
	// MaxQuotaRequestReasonLength bounds the requester's why and the
	// Owner's reason for a decline.
	MaxQuotaRequestReasonLength = 500
)

// FamilyName is a family's label for a sentence, the total's included.
func FamilyName(family string) string {
	if family == TotalRegionalVCPUs {
		return "Total regional vCPUs"
	}
	return FamilyLabel(family)
}

// Label says what a request asks for: "8 more vCPUs of Standard DSv2 Family
// vCPUs in eastus".
func (r *QuotaRequest) Label() string {
	return fmt.Sprintf("%s more of %s in %s", Plural(r.VCPUs, "vCPU"), FamilyName(r.Family), r.Region)
}

// AnswerMessage is what the requester is told of a decided request.
func (r *QuotaRequest) AnswerMessage() string {
	switch r.Status {
	case QuotaRequestGranted:
		return fmt.Sprintf("%s granted your request for %s: the workspace's limit is raised.", r.DecidedByName, r.Label())
	case QuotaRequestDeclined:
		return fmt.Sprintf("%s declined your request for %s: %s", r.DecidedByName, r.Label(), r.Answer)
	}
	return ""
}

// DecidedAlready refuses a second decision on r, saying who made the
// first and when (ECONFLICT).
func (r *QuotaRequest) DecidedAlready() *Error {
	by := r.DecidedByName
	if by == "" {
		by = "An Owner"
	}
	return Errorf(ECONFLICT, "%s %s this request already, on %s UTC; it cannot be decided twice.",
		by, r.Status, r.DecidedAt.UTC().Format("Jan 2, 2006, 15:04"))
}

var quotaRequestVCPUsMessage = fmt.Sprintf("Enter a whole number of vCPUs from 1 to %d.", MaxQuotaRequestVCPUs)

// ParseQuotaRequestVCPUs reads the request form's vCPUs: a whole number
// from 1 to MaxQuotaRequestVCPUs, digits only; EINVALID on "vcpus" else.
func ParseQuotaRequestVCPUs(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > len(strconv.Itoa(MaxQuotaRequestVCPUs)) || strings.ContainsFunc(s, func(r rune) bool { return !isDigit(r) }) {
		return 0, FieldError("vcpus", quotaRequestVCPUsMessage)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > MaxQuotaRequestVCPUs {
		return 0, FieldError("vcpus", quotaRequestVCPUsMessage)
	}
	return n, nil
}

// Validate checks what the requester wrote: vCPUs within bounds, a reason
// given and bounded, the region and family bounded (the service checks
// they exist). EINVALID naming the field.
func (r *QuotaRequest) Validate() error {
	r.Reason = strings.TrimSpace(r.Reason)
	switch {
	case r.VCPUs < 1 || r.VCPUs > MaxQuotaRequestVCPUs:
		return FieldError("vcpus", quotaRequestVCPUsMessage)
	case r.Reason == "":
		return FieldError("reason", "Say why you need it: the Owners decide on what you write.")
	}
	if err := TooLong("reason", "The reason", r.Reason, MaxQuotaRequestReasonLength); err != nil {
		return err
	}
	if err := TooLong("region", "A region's name", r.Region, MaxResourceNameLength); err != nil {
		return err
	}
	return TooLong("family", "A quota family's name", r.Family, MaxResourceNameLength)
}

// CheckDeclineReason checks an Owner's reason for a decline: required and
// bounded; EINVALID on "answer".
func CheckDeclineReason(answer string) (string, error) {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return "", FieldError("answer", "Say why you decline: the requester reads it.")
	}
	return answer, TooLong("answer", "The reason", answer, MaxQuotaRequestReasonLength)
}

// QuotaRequestStore keeps quota requests.
type QuotaRequestStore interface {
	// AddQuotaRequest records an open request, setting its ID. ECONFLICT
	// when its user has an open request for the same family and region.
	AddQuotaRequest(ctx context.Context, r *QuotaRequest) error
	// QuotaRequest returns a request. ENOTFOUND when none has id.
	QuotaRequest(ctx context.Context, id int64) (*QuotaRequest, error)
	// OpenQuotaRequests lists the open requests, oldest first.
	OpenQuotaRequests(ctx context.Context) ([]*QuotaRequest, error)
	// GrantQuotaRequest marks an open request granted and sets its
	// family's workspace limit to limit, in one transaction, provided the
	// limit still is was (-1 for none). ECONFLICT when the request is no
	// longer open, or the limit changed meanwhile.
	GrantQuotaRequest(ctx context.Context, r *QuotaRequest, was, limit int) error
	// DeclineQuotaRequest marks an open request declined with r's
	// DecidedBy and Answer. ECONFLICT when it is no longer open.
	DeclineQuotaRequest(ctx context.Context, r *QuotaRequest) error
	// TakeQuotaAnswers returns the decided requests of a user that were
	// not yet told, oldest first, and marks them told.
	TakeQuotaAnswers(ctx context.Context, userID int64) ([]*QuotaRequest, error)
}
