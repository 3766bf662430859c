package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-json-experiment/json/jsontext"
)

// strictJSON is huma's JSON format with a stricter reader: before the body is
// decoded, it must be well-formed JSON whose strings are valid UTF-8 (raw or
// as \u escapes: no lone surrogates) and whose objects name each member once.
// encoding/json would turn invalid UTF-8 into U+FFFD without a word, and let
// the last of two "source" members win, so what a client meant and what was
// stored could differ. Both are 422 now.
//
// Member names are matched exactly (ValidateStrictCasing, set below): huma
// validates the body against the schema first, whose objects admit no other
// members, so "Source" is an unknown member (422) and never reaches
// encoding/json's case-insensitive matching.
var strictJSON = huma.Format{
	Marshal: huma.DefaultJSONFormat.Marshal,
	Unmarshal: func(data []byte, v any) error {
		if err := checkJSON(data); err != nil {
			return err
		}
		return json.Unmarshal(data, v)
	},
}

// checkJSON reads every token of data with jsontext, whose defaults refuse
// invalid UTF-8 and duplicate member names.
func checkJSON(data []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var se *jsontext.SyntacticError
			if errors.As(err, &se) {
				if se.JSONPointer != "" {
					return fmt.Errorf("%v at %s (byte %d)", se.Err, se.JSONPointer, se.ByteOffset)
				}
				return fmt.Errorf("%v (at byte %d)", se.Err, se.ByteOffset)
			}
			return err
		}
	}
}

func init() {
	// huma's default matches member names case-insensitively in its
	// validation (and encoding/json does in decoding): the contract's names
	// are exact, and a client sending "Source" has a bug worth a 422.
	huma.ValidateStrictCasing = true
}
