package chat

import (
	"errors"
	"fmt"
)

// Code classifies an error so the HTTP layer can map it to a status in one place.
type Code int

// Error codes. Internal is the zero value so an unclassified error is never
// mistaken for the user's fault.
const (
	Internal Code = iota
	Invalid
	NotFound
	Forbidden
	Conflict
	Unauthorized
	TooLarge
	RateLimited
)

var codeNames = [...]string{"internal", "invalid", "not found", "forbidden", "conflict", "unauthorized", "too large", "rate limited"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is an error meant for the user: its message is safe to show.
type Error struct {
	Code Code
	// Field names the form field at fault, if any.
	Field string
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// FieldErrorf is Errorf for a problem with one form field.
func FieldErrorf(field string, code Code, format string, args ...any) error {
	return &Error{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf reports the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return Internal // checked first: errors.As makes its target escape
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// FieldOf reports the field of the first *Error in err's chain, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorText returns the user-facing text of err: the *Error's message, or a
// generic sentence for internal errors whose details must not leak.
func ErrorText(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "Something went wrong on our side. Please try again."
}
