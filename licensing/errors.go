package licensing

import (
	"errors"
	"fmt"
)

// Code classifies an Error so each edge (Slack, HTTP, CLI) can map it to its
// own status without parsing messages.
type Code string

const (
	Invalid            Code = "invalid"             // malformed input
	NotFound           Code = "not_found"           // no such licence, account, token...
	Conflict           Code = "conflict"            // already exists / already running
	Forbidden          Code = "forbidden"           // the actor may not do this
	FailedPrecondition Code = "failed_precondition" // state does not allow it (cancelled licence, primary contact...)
	Gone               Code = "gone"                // used or expired link
	Internal           Code = "internal"
)

// Codes lists every Code but Internal: those an Error carries.
var Codes = []Code{Invalid, NotFound, Conflict, Forbidden, FailedPrecondition, Gone}

// Error is a domain error: Message is safe to show to the person who asked.
// Field, when set, names the input field at fault as the caller sent it
// ("contacts[1].email"), for edges that point at it (the provisioning API).
type Error struct {
	Code    Code
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted, user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an *Error about one input field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorField returns the Field of err, or "" when it names none.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the Code of err, or Internal when err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the user-facing message of err, or a generic one that
// reveals nothing about internals.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side; it has been logged."
}

// WithField names the input field at fault in err, when err is an *Error
// that names none yet (a form then shows the message beside that field);
// anything else is returned as it is.
func WithField(err error, field string) error {
	var e *Error
	if !errors.As(err, &e) || e.Field != "" {
		return err
	}
	c := *e
	c.Field = field
	return &c
}
