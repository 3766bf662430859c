// Package web is the JSON API of the service: huma v2 operations on the
// standard library's ServeMux, an OpenAPI 3.1 description derived from the Go
// types (so it cannot drift), RFC 9457 problems with machine-readable codes
// from one table (problem.go), bearer-token authentication, health checks,
// metrics, and the middleware every response passes through (request ids,
// access log, security headers, CORS). It holds no rule of the domain: each
// handler decodes, calls one method of crm.Services, and encodes.
//
// routes.go lists the whole surface. The web app (package ui) is mounted on
// the same mux through Deps.Pages; the two packages do not import each other.
package web
