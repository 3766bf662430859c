package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// rejectNulls answers 422 when a body sets a field to null that its schema
// does not declare nullable. huma reads such a null as "absent", so without
// this {"owner_id": null} — a client meaning "unassign" — would answer 200
// and change nothing, and {"messages_count": null} on create would quietly
// mean 0. The fields that may be null (the ones PATCH /leads/{id} clears
// with null) are nullable in the schema and pass.
func rejectNulls(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, next func(huma.Context)) {
		schema := bodySchema(api, hctx.Operation())
		if schema == nil {
			next(hctx)
			return
		}
		r, _ := humago.Unwrap(hctx)
		limit := hctx.Operation().MaxBodyBytes
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		// Give huma the body back whole: it still enforces the size limit and
		// reports malformed JSON itself.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
		var top map[string]json.RawMessage
		// Most bodies hold no null at all: those are not parsed twice.
		if err != nil || int64(len(b)) > limit || !bytes.Contains(b, []byte("null")) || json.Unmarshal(b, &top) != nil {
			next(hctx)
			return
		}
		var errs []error
		for name, raw := range top {
			if p, ok := schema.Properties[name]; ok && string(raw) == "null" && !p.Nullable {
				errs = append(errs, &huma.ErrorDetail{Location: "body." + name,
					Message: "must not be null; leave the field out to keep it as it is"})
			}
		}
		if len(errs) > 0 {
			_ = huma.WriteErr(api, hctx, http.StatusUnprocessableEntity, "validation failed", errs...)
			return
		}
		next(hctx)
	}
}

// bodySchema returns the JSON body schema of an operation, nil when it has none.
func bodySchema(api huma.API, op *huma.Operation) *huma.Schema {
	if op.RequestBody == nil {
		return nil
	}
	mt := op.RequestBody.Content["application/json"]
	if mt == nil || mt.Schema == nil {
		return nil
	}
	if mt.Schema.Ref != "" {
		return api.OpenAPI().Components.Schemas.SchemaFromRef(mt.Schema.Ref)
	}
	return mt.Schema
}

type readCloser struct {
	io.Reader
	io.Closer
}
