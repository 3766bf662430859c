package web

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

type statusResponse struct {
	Body struct {
		Status  string `json:"status" enum:"ok"`
		Version string `json:"version,omitempty"`
	}
}

func handleHealthz() func(context.Context, *struct{}) (*statusResponse, error) {
	return func(context.Context, *struct{}) (*statusResponse, error) {
		out := &statusResponse{}
		out.Body.Status = "ok"
		return out, nil
	}
}

// handleReadyz answers 200 only when the database answers and every migration
// is applied; otherwise 503, so a load balancer stops sending traffic.
func handleReadyz(d Deps) func(context.Context, *struct{}) (*statusResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*statusResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := d.Ping(ctx); err != nil {
			if !crm.IsKind(err, crm.EUNAVAILABLE) {
				err = crm.Unavailable(crm.CodeDBUnavailable, "the database is not ready", time.Second, err)
			}
			return nil, err
		}
		out := &statusResponse{}
		out.Body.Status, out.Body.Version = "ok", d.Version
		return out, nil
	}
}

var notFoundRoute = crm.Errorf(crm.ENOTFOUND, crm.CodeNotFound, "no such resource; see /docs for the API")

//go:embed docsui
var docsFiles embed.FS

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM Leads API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`

// The initializer is a file, not an inline script, so the page works under
// the Content-Security-Policy every response carries.
const docsInit = `window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true});`

// handleDocs serves the interactive API docs (Swagger UI) from files embedded
// in the binary: they work in an office without internet.
func handleDocs() http.Handler {
	sub, _ := fs.Sub(docsFiles, "docsui")
	files := http.StripPrefix("/docs/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/docs", "/docs/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(docsPage))
		case "/docs/init.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write([]byte(docsInit))
		default:
			// A missing asset is a problem document like every other 404
			// outside the pages, not the file server's plain text.
			if _, err := fs.Stat(sub, strings.TrimPrefix(r.URL.Path, "/docs/")); err != nil {
				writeProblem(w, r, notFoundRoute)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=86400")
			files.ServeHTTP(w, r)
		}
	})
}
