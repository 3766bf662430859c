package crm

import (
	"strings"
	"unicode/utf8"
)

// MsgBadText is the message of a text field that is not valid UTF-8 or holds
// a NUL character.
const MsgBadText = "must be valid UTF-8 text without NUL characters"

// ValidText reports whether s is text the service accepts: valid UTF-8 with
// no NUL character. Every text input passes through it (checkText) in the
// domain's validation, so both stores see the same thing: SQLite would store
// either, PostgreSQL refuses both, and a NUL in a search would match every
// lead on one and fail on the other.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkText appends a problem for the field unless every given value (nil
// ones skipped) is ValidText.
func checkText(fe []FieldError, field string, vals ...*string) []FieldError {
	for _, v := range vals {
		if v != nil && !ValidText(*v) {
			return append(fe, FieldError{Field: field, Message: MsgBadText})
		}
	}
	return fe
}

// CheckText returns an EINVALID error naming the first field whose value is
// not ValidText, nil when all are; fields and values alternate.
func CheckText(fieldValues ...string) error {
	var fe []FieldError
	for i := 0; i+1 < len(fieldValues); i += 2 {
		fe = checkText(fe, fieldValues[i], &fieldValues[i+1])
	}
	if fe != nil {
		return Invalid(fe...)
	}
	return nil
}
