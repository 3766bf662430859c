package web

import (
	"net/http"
	"reflect"
	"slices"

	"github.com/danielgtaylor/huma/v2"
)

// Arrays in our answers are never null: every list handler makes its slice,
// and the problem lists are left out when empty. huma's default would describe
// each one as "array or null", so a generated client would have to handle a
// null that never comes (and a null sent in a body would be taken for absent
// instead of rejected by rejectNulls).
func init() { huma.DefaultArrayNullable = false }

// describeNulls makes the description admit every null the service sends.
// huma writes a nullable field as type: [T, "null"] but keeps its enum as the
// tag lists it; in OpenAPI 3.1 (JSON Schema 2020-12) enum is checked on its
// own, so a nullable enum field such as ai_recommendation must list null among
// its values or every null it carries is invalid. It walks every schema of the
// document (components, parameters, bodies, response headers) once, after all
// operations are registered, so a field added later is covered without a tag
// to remember. huma's own validation lets a nullable field's null through
// before it looks at the enum, so the added value changes nothing there.
func describeNulls(o *huma.OpenAPI) {
	seen := map[*huma.Schema]bool{}
	var walk func(s *huma.Schema)
	walk = func(s *huma.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Nullable && len(s.Enum) > 0 && !slices.Contains(s.Enum, nil) {
			s.Enum = append(s.Enum, nil)
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		if ap, ok := s.AdditionalProperties.(*huma.Schema); ok {
			walk(ap)
		}
		for _, subs := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
			for _, sub := range subs {
				walk(sub)
			}
		}
		walk(s.Not)
	}
	content := func(c map[string]*huma.MediaType) {
		for _, mt := range c {
			if mt != nil {
				walk(mt.Schema)
			}
		}
	}
	if o.Components != nil && o.Components.Schemas != nil {
		for _, s := range o.Components.Schemas.Map() {
			walk(s)
		}
	}
	for _, pi := range o.Paths {
		for _, op := range []*huma.Operation{pi.Get, pi.Put, pi.Post, pi.Delete, pi.Options, pi.Head, pi.Patch, pi.Trace} {
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				walk(p.Schema)
			}
			if op.RequestBody != nil {
				content(op.RequestBody.Content)
			}
			for _, r := range op.Responses {
				content(r.Content)
				for _, h := range r.Headers {
					walk(h.Schema)
				}
			}
		}
	}
}

// hasBody reports whether an operation's input type carries a request body,
// so that register can document the answers only a body can cause.
func hasBody[I any]() bool {
	t := reflect.TypeFor[I]()
	if t.Kind() != reflect.Struct {
		return false
	}
	_, ok := t.FieldByName("Body")
	return ok
}

// bodyErrors documents what any operation with a body may answer to a bad
// one: 413 (over MaxBodyBytes), 415 (a Content-Type other than JSON) and 422.
func bodyErrors(op *huma.Operation) {
	for _, c := range []int{http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity} {
		if !slices.Contains(op.Errors, c) {
			op.Errors = append(op.Errors, c)
		}
	}
}
