package instancehub

import (
	"errors"
	"fmt"
)

// Error codes. The web layer maps each one to an HTTP status; only EINTERNAL
// errors are logged in full, the others are shown to the user as they are.
const (
	ECONFLICT     = "conflict"     // the action does not fit the current state
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // bad input
	ENOTFOUND     = "not_found"    // no such thing
	EUNAUTHORIZED = "unauthorized" // not signed in
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	EUNAVAILABLE  = "unavailable"  // Azure could not be reached, or failed to answer
	ECLOUD        = "cloud"        // Azure carried out an operation and it failed
	EQUOTA        = "quota"        // a vCPU quota would be exceeded
	ETHROTTLED    = "throttled"    // too many attempts; wait and try again
	EFULL         = "full"         // the portal's disk is full: nothing can be saved
)

// ErrDiskFull is what a store answers a write that found no room: the disk
// holding the database is full (or, on PostgreSQL, the server's). Nothing
// is saved until an operator makes room; reads go on.
var ErrDiskFull = Errorf(EFULL, "The portal's disk is full, so nothing can be saved; an operator must make room on it. Try again later.")

// Error is the one error type of instancehub's domain. Message is written for
// the user; Fields holds per-field messages of a rejected form; CloudCode is
// the Azure Resource Manager error code when Azure refused the request.
type Error struct {
	Code      string
	Message   string
	Fields    map[string]string
	CloudCode string
}

func (e *Error) Error() string {
	if e.CloudCode != "" {
		return fmt.Sprintf("instancehub error: code=%s cloud=%s message=%s", e.Code, e.CloudCode, e.Message)
	}
	return fmt.Sprintf("instancehub error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one form field.
func FieldError(field, message string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: map[string]string{field: message}}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Internal errors get a
// generic message so that no detail of the system leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. The error has been logged."
}

// ErrorFields returns the per-field messages of err, if it carries any.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// CloudErrorCode returns the Azure error code carried by err, if any.
func CloudErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.CloudCode
	}
	return ""
}
