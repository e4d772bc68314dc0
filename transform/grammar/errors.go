// Package grammar parses, validates and canonicalises Cloudinary delivery
// paths and transformation strings. It imports no codec so that light clients
// (the SDK's URL builder) can use it.
package grammar

import "fmt"

// Error is a user-facing transformation error. Its message follows
// Cloudinary's wording and is what servers put in X-Cld-Error.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// errorf builds an *Error.
func errorf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// invalid reports an invalid value for a named parameter.
func invalid(name, value string) *Error {
	return errorf("Invalid %s in transformation: %s", name, value)
}
