// Package errs holds the application's one coded error type.
//
// An *Error carries a Code that decides the HTTP status and a Message that is
// safe to show to the person using the service. Everything else (the wrapped
// cause) is for the logs only.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and for the HTTP layer.
type Code string

// The error codes used across the application.
const (
	EINVALID      Code = "invalid"      // bad input; the user can fix it
	ENOTFOUND     Code = "not_found"    // no such thing (or not visible to this user)
	EUNAUTHORIZED Code = "unauthorized" // must sign in
	EFORBIDDEN    Code = "forbidden"    // signed in, but not allowed
	ECONFLICT     Code = "conflict"     // state does not allow this now (duplicate, already done)
	ETOOMANY      Code = "too_many"     // throttled
	EUNAVAILABLE  Code = "unavailable"  // a store is down for a moment; try again
	EINTERNAL     Code = "internal"     // our fault; logged, never shown in detail
)

// Error is an application error with a code and a message safe to show.
type Error struct {
	Code    Code
	Message string
	Err     error // underlying cause, logged but never shown
}

// Error returns the message and, when present, the cause.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	default:
		return e.Message
	}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E returns an error with the given code and a message safe to show.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given code and safe message that wraps cause.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// MessageOf returns the safe message of err: the message of the first *Error
// in its chain, or a generic sentence for internal errors.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL && e.Message != "" {
		return e.Message
	}
	return "Something went wrong on our side. Please try again; if it keeps happening, contact us."
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// FieldErrors maps a form field name to a message for the user. It is the
// result of a domain type's Validate method.
type FieldErrors map[string]string

// Add records a message for field unless one is already recorded.
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns nil when there are no problems, otherwise an EINVALID *Error
// wrapping the field errors as a *ValidationError.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Please correct the problems below.", Err: &ValidationError{Fields: f}}
}

// ValidationError carries per-field problems.
type ValidationError struct {
	Fields FieldErrors
}

// Error lists the fields with problems.
func (v *ValidationError) Error() string {
	return fmt.Sprintf("validation failed on %d field(s)", len(v.Fields))
}

// Fields returns the per-field problems in err's chain, or nil.
func Fields(err error) FieldErrors {
	var v *ValidationError
	if errors.As(err, &v) {
		return v.Fields
	}
	return nil
}
