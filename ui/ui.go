package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are what the web app needs; cmd/crmleads wires them.
type Deps struct {
	*crm.Services
	Tokens *auth.Tokens
	Logger *slog.Logger
}

// App is the managers' web app: server-rendered pages over the same
// crm.Services as the JSON API.
type App struct {
	deps    Deps
	log     *slog.Logger
	locales map[string]*Locale
	pages   map[string]*template.Template
	// assets maps the hashed name (app.3f2a9c1b.css) to its file, and
	// assetURL the plain name to its URL.
	assets   map[string]asset
	assetURL map[string]string
	xorigin  *http.CrossOriginProtection
}

type asset struct {
	body        []byte
	contentType string
}

// New parses every template and hashes every static asset; anything missing or
// malformed is an error here, at start, rather than on a click.
func New(d Deps) (*App, error) {
	a := &App{deps: d, log: d.Logger, assets: map[string]asset{}, assetURL: map[string]string{},
		xorigin: http.NewCrossOriginProtection()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if a.locales, err = loadLocales(); err != nil {
		return nil, err
	}
	if err := a.loadAssets(); err != nil {
		return nil, err
	}
	if err := a.parseTemplates(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) loadAssets() error {
	return fs.WalkDir(staticFS, "static", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.assets[hashed] = asset{body: b, contentType: ct}
		a.assetURL[name] = "/static/" + hashed
		return nil
	})
}

// pageNames lists every page template; each is parsed with the layout.
var pageNames = []string{"login", "leads", "board", "lead_new", "lead", "sales", "sales_board", "sale",
	"users", "settings", "audit", "quality", "error", "tasks", "notifications", "webhooks", "batches", "lead_lose",
	"leads_bulk", "task_edit", "task_delete", "imports", "import"}

func (a *App) parseTemplates() error {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := a.assetURL[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return u, nil
		},
		"pct":       func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"str":       func(v any) string { return fmt.Sprint(v) },
		"arr":       func(xs ...any) []any { return xs },
		"dtpattern": func() string { return DateTimePattern },
		"dpattern":  func() string { return DatePattern },
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/_*.html")
	if err != nil {
		return fmt.Errorf("ui: templates: %w", err)
	}
	a.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("ui: template %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return fmt.Errorf("ui: template %s defines no content", name)
		}
		a.pages[name] = t
	}
	return nil
}

// Mount registers the pages and assets on mux, under /app/ and /static/ so
// that they never collide with the API.
func (a *App) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /static/{name}", a.serveAsset)

	mux.HandleFunc("GET /app/login", a.page(a.loginPage))
	mux.HandleFunc("POST /app/login", a.form(a.loginSubmit))
	mux.HandleFunc("POST /app/logout", a.form(a.logout))
	mux.HandleFunc("POST /app/lang", a.form(a.setLanguage))

	mux.HandleFunc("GET /app/{$}", a.page(a.signedIn(func(w http.ResponseWriter, r *http.Request, v *view) {
		http.Redirect(w, r, "/app/leads", http.StatusSeeOther)
	})))
	mux.HandleFunc("GET /app/leads", a.page(a.signedIn(a.leadsPage)))
	mux.HandleFunc("GET /app/leads/export", a.page(a.signedIn(a.leadsExport)))
	mux.HandleFunc("POST /app/leads/bulk", a.form(a.signedIn(a.leadsBulk)))
	mux.HandleFunc("POST /app/filters", a.form(a.signedIn(a.filterSave)))
	mux.HandleFunc("POST /app/filters/{id}/delete", a.form(a.signedIn(a.filterDelete)))
	mux.HandleFunc("GET /app/board", a.page(a.signedIn(a.boardPage)))
	mux.HandleFunc("GET /app/leads/new", a.page(a.signedIn(a.leadNewPage)))
	mux.HandleFunc("POST /app/leads", a.form(a.signedIn(a.leadCreate)))
	mux.HandleFunc("GET /app/leads/{id}", a.page(a.signedIn(a.leadPage)))
	mux.HandleFunc("POST /app/leads/{id}", a.form(a.signedIn(a.leadUpdate)))
	mux.HandleFunc("POST /app/leads/{id}/messages", a.form(a.signedIn(a.leadMessages)))
	mux.HandleFunc("POST /app/leads/{id}/messages/increment", a.form(a.signedIn(a.leadIncrement)))
	mux.HandleFunc("POST /app/leads/{id}/stage", a.form(a.signedIn(a.leadStage)))
	mux.HandleFunc("GET /app/leads/{id}/lose", a.page(a.signedIn(a.losePage)))
	mux.HandleFunc("POST /app/leads/{id}/lose", a.form(a.signedIn(a.leadLose)))
	mux.HandleFunc("POST /app/leads/{id}/analyze", a.form(a.signedIn(a.leadAnalyze)))
	mux.HandleFunc("POST /app/leads/{id}/transfer", a.form(a.signedIn(a.leadTransfer)))
	mux.HandleFunc("POST /app/leads/{id}/owner", a.form(a.signedIn(a.leadOwner)))
	mux.HandleFunc("POST /app/leads/{id}/activities", a.form(a.signedIn(a.leadActivity)))
	mux.HandleFunc("POST /app/leads/{id}/tasks", a.form(a.signedIn(a.leadTaskCreate)))
	mux.HandleFunc("GET /app/tasks", a.page(a.signedIn(a.tasksPage)))
	mux.HandleFunc("POST /app/tasks/{id}/done", a.form(a.signedIn(a.taskDone)))
	mux.HandleFunc("GET /app/tasks/{id}/edit", a.page(a.signedIn(a.taskEditPage)))
	mux.HandleFunc("POST /app/tasks/{id}/edit", a.form(a.signedIn(a.taskEdit)))
	mux.HandleFunc("GET /app/tasks/{id}/delete", a.page(a.signedIn(a.taskDeletePage)))
	mux.HandleFunc("POST /app/tasks/{id}/delete", a.form(a.signedIn(a.taskDelete)))
	mux.HandleFunc("GET /app/notifications", a.page(a.signedIn(a.notificationsPage)))
	mux.HandleFunc("POST /app/notifications/read", a.form(a.signedIn(a.notificationsRead)))

	mux.HandleFunc("GET /app/sales", a.page(a.signedIn(a.salesPage)))
	mux.HandleFunc("GET /app/sales/export", a.page(a.signedIn(a.salesExport)))
	mux.HandleFunc("GET /app/sales/board", a.page(a.signedIn(a.salesBoardPage)))
	mux.HandleFunc("GET /app/sales/{id}", a.page(a.signedIn(a.salePage)))
	mux.HandleFunc("POST /app/sales/{id}/stage", a.form(a.signedIn(a.saleStage)))
	mux.HandleFunc("POST /app/sales/{id}/value", a.form(a.signedIn(a.saleValue)))

	mux.HandleFunc("GET /app/audit", a.page(a.signedIn(a.auditPage)))
	mux.HandleFunc("GET /app/ai", a.page(a.signedIn(a.qualityPage)))
	mux.HandleFunc("GET /app/ai/batches", a.page(a.signedIn(a.batchesPage)))
	mux.HandleFunc("POST /app/ai/batches", a.form(a.signedIn(a.batchStart)))
	mux.HandleFunc("GET /app/ai/batches/{id}/progress", a.page(a.signedIn(a.batchProgress)))
	mux.HandleFunc("GET /app/imports", a.page(a.signedIn(a.importsPage)))
	mux.HandleFunc("POST /app/imports", a.page(a.signedIn(a.importUpload))) // checks its own csrf, streaming
	mux.HandleFunc("GET /app/imports/{id}", a.page(a.signedIn(a.importPage)))
	mux.HandleFunc("GET /app/imports/{id}/progress", a.page(a.signedIn(a.importProgressJSON)))
	mux.HandleFunc("POST /app/imports/{id}/mapping", a.form(a.signedIn(a.importMapping)))
	mux.HandleFunc("POST /app/imports/{id}/commit", a.form(a.signedIn(a.importCommit)))
	mux.HandleFunc("POST /app/imports/{id}/cancel", a.form(a.signedIn(a.importCancel)))
	mux.HandleFunc("GET /app/admin/users", a.page(a.signedIn(a.usersPage)))
	mux.HandleFunc("POST /app/admin/users", a.form(a.signedIn(a.userCreate)))
	mux.HandleFunc("POST /app/admin/users/{id}", a.form(a.signedIn(a.userUpdate)))
	mux.HandleFunc("GET /app/admin/settings", a.page(a.signedIn(a.settingsPage)))
	mux.HandleFunc("POST /app/admin/settings", a.form(a.signedIn(a.settingsUpdate)))
	mux.HandleFunc("POST /app/admin/settings/gate", a.form(a.signedIn(a.settingsGate)))
	mux.HandleFunc("GET /app/admin/webhooks", a.page(a.signedIn(a.webhooksPage)))
	mux.HandleFunc("POST /app/admin/webhooks", a.form(a.signedIn(a.webhookCreate)))
	mux.HandleFunc("POST /app/admin/webhooks/{id}/test", a.form(a.signedIn(a.webhookTest)))
	mux.HandleFunc("POST /app/admin/webhooks/{id}/enabled", a.form(a.signedIn(a.webhookEnabled)))
	mux.HandleFunc("POST /app/admin/webhooks/{id}/rotate", a.form(a.signedIn(a.webhookRotate)))
	mux.HandleFunc("POST /app/admin/webhooks/{id}/delete", a.form(a.signedIn(a.webhookDelete)))
	mux.HandleFunc("POST /app/admin/webhooks/{id}/replay", a.form(a.signedIn(a.webhookReplay)))
	mux.HandleFunc("POST /app/admin/webhooks/{id}/replay-failed", a.form(a.signedIn(a.webhookReplayFailed)))

	// Anything else under /app/ is a friendly page, not the API's problem JSON.
	mux.HandleFunc("/app/", a.page(func(w http.ResponseWriter, r *http.Request, v *view) {
		a.renderError(w, r, v, http.StatusNotFound)
	}))
}

func (a *App) serveAsset(w http.ResponseWriter, r *http.Request) {
	as, ok := a.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", as.contentType)
	// The name carries the content hash: a new version is a new URL.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", timeZero, bytes.NewReader(as.body))
}
