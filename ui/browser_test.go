package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for one test, bounded by limit. Without
// Chromium the test skips, except under CI=true, where it fails: CI installs
// Chromium and must never pass by skipping.
func browser(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, and under CI=true the browser tests must run", chromiumPath)
		}
		t.Skipf("browser tests skipped: %s is missing (apt-get install -y chromium)", chromiumPath)
	}
	parent, cancelLimit := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancelLimit)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// Nothing may reach for the network, or Chromium waits on it.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 800),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(cancelCtx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// steps runs browser actions with a bound of their own, failing the test on error.
type steps struct {
	t   *testing.T
	ctx context.Context
	url string
	// audit, when set, checks every page the steps reach (see check).
	audit *audit
	// The viewport the test set (0: the desktop one browser starts with).
	width, height int64
	mobile        bool
}

// viewport returns the action that sets the window to width × height, as a
// phone when mobile.
func (s *steps) viewport(width, height int64, mobile bool) chromedp.Action[chromedp.Void] {
	if width == 0 {
		width, height = 1280, 800
	}
	if mobile {
		return chromedp.EmulateViewport(width, height, chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(width, height)
}

// resize sets the viewport for the steps that follow.
func (s *steps) resize(width, height int64, mobile bool) {
	s.t.Helper()
	s.width, s.height, s.mobile = width, height, mobile
	s.do(fmt.Sprintf("width %d", width), s.viewport(width, height, mobile))
}

func (s *steps) do(what string, actions ...func(context.Context, *chromedp.Target) (chromedp.Void, error)) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	acts := make([]chromedp.Action[chromedp.Void], len(actions))
	for i, a := range actions {
		acts[i] = a
	}
	if err := chromedp.Do(ctx, acts...); err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func (s *steps) open(path string) {
	s.t.Helper()
	s.do("open "+path, chromedp.Navigate(s.url+path))
	s.check()
}

// click clicks what sel finds and waits for the page that follows to load.
func (s *steps) click(sel string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		s.t.Fatalf("click %s: %v", sel, err)
	}
	s.check()
}

func (s *steps) text(sel string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		s.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

func (s *steps) wantText(sel, want string) {
	s.t.Helper()
	if got := s.text(sel); !strings.Contains(got, want) {
		s.t.Fatalf("%s shows %q, want %q", sel, got, want)
	}
}

func (s *steps) location() string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Location())
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

func (s *steps) present(sel string) bool {
	s.t.Helper()
	n, err := chromedp.Run(s.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
	if err != nil {
		s.t.Fatal(err)
	}
	return n > 0
}

func (s *steps) signIn(email string) {
	s.t.Helper()
	s.open("/app/login")
	s.do("sign in as "+email,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password))
	s.click("#signin")
}

// shot saves a screenshot of the viewport under test-artifacts/screenshots,
// and under docs/screenshots when CRM_UPDATE_SCREENSHOTS=1.
func (s *steps) shot(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{filepath.Join("..", "test-artifacts", "screenshots")}
	if os.Getenv("CRM_UPDATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join("..", "docs", "screenshots"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// flowText is what the page says at each step of the manager's flow in one
// language; the values are literal, so a missing or English translation fails.
type flowText struct {
	lang         string // the language switch's value; "en" is the browser's default
	signIn       string // the sign-in page's heading
	emailError   string
	leadCreated  string
	leadStage    map[string]string // badge and button labels of the lead's stages
	stageMoved   string            // the flash after a stage move; %s is the stage label
	messagesNow  string            // the flash after +1 to four messages
	noDomain     string            // blocker
	notAnalyzed  string            // blocker
	saved        string
	analyzed     string // the flash after the analysis, up to the score
	decimalPoint string // separates the score's fraction
	high         string // the band
	transferRec  string // the recommendation
	transferred  string // the flash after the transfer
	saleStage    map[string]string
	saleMoved    string // the flash after a sale's move; %s is the stage label
	saleFinal    string
	eventXfer    string   // the lead's history entry for the transfer
	leaks        []string // English labels that must not show on its pages; none for English
	saleShot     string   // the sale page's screenshot
}

var english = flowText{
	lang: "en", signIn: "Sign in", emailError: "Enter an email address", leadCreated: "Lead created.",
	leadStage:   map[string]string{"new": "New", "contacted": "Contacted", "qualified": "Qualified", "transferred": "Transferred"},
	stageMoved:  "Moved to %s.",
	messagesNow: "Messages: 4.",
	noDomain:    "Set the business domain.", notAnalyzed: "Analyze the lead with AI first.",
	saved: "Saved.", analyzed: "Analysis done: score 0.", decimalPoint: ".", high: "high", transferRec: "Transfer to sales",
	transferred: "Transferred to sales: the sale is created.",
	saleStage:   map[string]string{"new": "New", "kyc": "KYC", "agreement": "Agreement", "paid": "Paid"},
	saleMoved:   "Sale moved to %s.", saleFinal: "This sale is closed.",
	eventXfer: "transferred the lead to sales",
	saleShot:  "sale",
}

var ukrainian = flowText{
	lang: "uk", signIn: "Вхід", emailError: "Введіть адресу на кшталт name@example.com.", leadCreated: "Лід створено.",
	leadStage:   map[string]string{"new": "Новий", "contacted": "Контакт встановлено", "qualified": "Кваліфікований", "transferred": "Передано в продажі"},
	stageMoved:  "Переведено в етап «%s».",
	messagesNow: "Повідомлень: 4.",
	noDomain:    "Вкажіть бізнес-домен.", notAnalyzed: "Спершу проаналізуйте лід за допомогою ШІ.",
	saved: "Збережено.", analyzed: "Аналіз готовий: оцінка 0,", decimalPoint: ",", high: "висока", transferRec: "Передати в продажі",
	transferred: "Передано в продажі: продаж створено.",
	saleStage:   map[string]string{"new": "Новий", "kyc": "Перевірка KYC", "agreement": "Договір", "paid": "Оплачено"},
	saleMoved:   "Продаж переведено в етап «%s».", saleFinal: "Цей продаж закрито.",
	eventXfer: "лід передано в продажі",
	leaks: []string{"Leads", "Board", "Sales", "Sign out", "Stage", "Move to", "Messages", "Save", "Business domain",
		"AI analysis", "Analyze with AI", "Score", "Recommendation", "Transfer to sales", "History", "Qualified",
		"Agreement", "Paid", "Lead created", "Analysis done"},
	saleShot: "sale-uk",
}

// noLeaks fails when the page shows one of l's English labels. The AI's
// reason is its own text, not a label, and is left out.
func (s *steps) noLeaks(l flowText) {
	s.t.Helper()
	if len(l.leaks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const b = document.body.cloneNode(true);
		b.querySelectorAll("#analysis-reason").forEach(e => e.remove());
		document.documentElement.appendChild(b); // innerText needs a rendered node
		const t = b.innerText;
		b.remove();
		return t;
	})()`))
	if err != nil {
		s.t.Fatalf("page text: %v", err)
	}
	for _, w := range l.leaks {
		if strings.Contains(text, w) {
			s.t.Errorf("%s in %s shows the English %q", s.location(), l.lang, w)
		}
	}
}

// managerFlow is the brief's flow in l's language: sign in as the manager,
// create a lead, move it to qualified, count a message, set its domain,
// analyze it, transfer it and move the sale to paid. It returns the lead's path.
func managerFlow(s *steps, b *bundle, l flowText) string {
	t := s.t
	t.Helper()

	// Signing in, after choosing the language there.
	s.open("/app/login")
	if l.lang != "en" {
		s.click(`.lang button[value="` + l.lang + `"]`)
	}
	s.wantText("h1", l.signIn)
	if l.lang == "en" {
		s.shot("sign-in")
	}
	s.signIn(b.alice.Email)
	s.wantText(".who-name", "Alice Manager")

	// A new lead, with a validation error first.
	s.click("#new-lead")
	s.do("fill the new lead",
		chromedp.SetValue(chromedp.CSS("#source"), "partner"),
		chromedp.SetValue(chromedp.CSS("#messages_count"), "3"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Olena Kovalenko"),
		chromedp.SendKeys(chromedp.CSS("#company"), "Kvitka LLC"),
		chromedp.SendKeys(chromedp.CSS("#email"), "olena@"))
	s.click("#create-lead")
	s.wantText("#email-error", l.emailError)
	s.do("fix the email", chromedp.SetValue(chromedp.CSS("#email"), "olena@kvitka.example"))
	s.click("#create-lead")
	leadURL := strings.TrimPrefix(s.location(), b.baseURL)
	if !strings.HasPrefix(leadURL, "/app/leads/") {
		t.Fatalf("after creating a lead the browser is at %s", leadURL)
	}
	s.wantText(".flash-ok", l.leadCreated)
	s.wantText("#lead-stage", l.leadStage["new"])
	s.wantText("#blockers", l.noDomain)

	// Through the stages: only the legal moves are offered.
	if s.present("#move-qualified") {
		t.Fatal("a new lead offers to skip to qualified")
	}
	for _, stage := range []string{"contacted", "qualified"} {
		s.wantText("#move-"+stage, l.leadStage[stage])
		s.click("#move-" + stage)
		s.wantText(".flash-ok", fmt.Sprintf(l.stageMoved, l.leadStage[stage]))
		s.wantText("#lead-stage", l.leadStage[stage])
	}
	s.click("#messages-inc")
	s.wantText(".flash-ok", l.messagesNow)
	s.wantText("#messages-count", "4")

	// The business domain, then the analysis.
	s.do("choose a domain", chromedp.SetValue(chromedp.CSS("#business_domain"), "first"))
	s.click("#save-lead")
	s.wantText(".flash-ok", l.saved)
	s.wantText("#blockers", l.notAnalyzed)
	s.click("#analyze")
	s.wantText(".flash-ok", l.analyzed)
	s.wantText(".flash-ok", l.transferRec)
	score := s.text("#analysis-score")
	if !strings.HasPrefix(score, "0"+l.decimalPoint) || len(score) != 4 {
		t.Fatalf("score shows %q, want 0%s and two digits", score, l.decimalPoint)
	}
	s.wantText("#analysis-band", l.high)
	s.wantText("#analysis-rec", l.transferRec)
	if s.present("#blockers") || s.present("#transfer[disabled]") {
		t.Fatal("the transfer is still blocked after a high score")
	}
	s.noLeaks(l)
	if l.lang == "en" {
		s.do("scroll to top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		s.shot("lead")
		s.resize(390, 844, true)
		s.open(leadURL)
		s.shot("lead-phone")
		s.resize(1280, 800, false)
		s.open(leadURL)
	}

	// Transfer, then the sale to paid.
	s.click("#transfer")
	s.wantText(".flash-ok", l.transferred)
	s.wantText("#sale-stage", l.saleStage["new"])
	s.wantText("#sale-lead", "Olena Kovalenko")
	for _, stage := range []string{"kyc", "agreement", "paid"} {
		if stage == "paid" {
			s.shot(l.saleShot)
		}
		s.wantText("#sale-move-"+stage, l.saleStage[stage])
		s.click("#sale-move-" + stage)
		s.wantText(".flash-ok", fmt.Sprintf(l.saleMoved, l.saleStage[stage]))
		s.wantText("#sale-stage", l.saleStage[stage])
	}
	s.wantText("#sale-final", l.saleFinal)
	s.noLeaks(l)

	// The lead is transferred and shows its history.
	s.open(leadURL)
	s.wantText("#lead-stage", l.leadStage["transferred"])
	s.wantText("#events", l.eventXfer)
	s.noLeaks(l)
	return leadURL
}

// TestBrowser drives the app in headless Chromium the way a manager would:
// plain forms, no API calls, from sign-in to a paid sale. Every page it
// reaches is audited for accessibility at both widths.
func TestBrowser(t *testing.T) {
	ctx := browser(t, 4*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL, audit: newAudit(t)}
	leadURL := managerFlow(s, b, english)

	// A few more leads, for the list and the board.
	for _, name := range []string{"Petro Shevchenko", "Iryna Bondar", "Andrii Melnyk"} {
		s.open("/app/leads/new")
		s.do("fill "+name, chromedp.SendKeys(chromedp.CSS("#name"), name), chromedp.SetValue(chromedp.CSS("#source"), "scanner"))
		s.click("#create-lead")
	}
	s.click("#move-contacted")
	s.open("/app/leads")
	s.wantText("#leads-table", "Olena Kovalenko")
	s.shot("leads")
	s.open("/app/board")
	s.wantText(".col-transferred", "Olena Kovalenko")
	s.wantText(".col-contacted", "Andrii Melnyk")
	s.shot("board")

	// Another manager: the lead does not exist for him.
	s.click("#logout")
	s.wantText("h1", "Sign in")
	s.signIn(b.bob.Email)
	s.open(leadURL)
	s.wantText("#error-page", "There is no such page, or it is not yours to see.")
	if s.present(`a[href="/app/admin/users"]`) {
		t.Error("a manager sees the Admin link")
	}

	// Switching the language changes the labels.
	s.click(`.lang button[value="uk"]`)
	s.wantText(".nav", "Ліди")
	s.wantText("#error-page h1", "Не знайдено")
	s.open("/app/leads")
	s.wantText("#new-lead", "Новий лід")
	s.click("#logout")

	// The admin's pages (the language choice stays with the browser).
	s.signIn(b.admin.Email)
	s.open(leadURL)
	s.wantText("#analysis-rec", "Передати в продажі")
	s.wantText("#lead-stage", "Передано в продажі")
	if s.present("#analysis-stale") {
		t.Error("a transferred lead's analysis is marked stale")
	}
	s.shot("lead-uk")
	s.click(`.lang button[value="en"]`)
	s.open("/app/admin/users")
	s.wantText("#users-table", "Alice Manager")
	s.shot("admin-users")
	s.click(`.nav a[href="/app/audit"]`)
	s.wantText("#audit-table", "transferred the lead to sales")
	s.wantText("#audit-table", "Alice Manager")
	s.shot("audit")
}

// TestBrowserUkrainian does the manager's whole flow after switching to
// Ukrainian, before signing in.
func TestBrowserUkrainian(t *testing.T) {
	ctx := browser(t, 4*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL, audit: newAudit(t)}
	managerFlow(s, b, ukrainian)
}
