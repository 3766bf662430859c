package main

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/internal/request"
	"github.com/crmleads/crm/internal/tracing"
	"github.com/crmleads/crm/jobs"
)

// config is the service's configuration, read from the environment and an
// optional .env file in the working directory (the environment wins).
type config struct {
	// importSlice bounds one run of an import job (crm.Config.ImportSlice):
	// set by `crmleads import` for a livelier progress bar, not from the
	// environment.
	importSlice time.Duration

	Addr          string
	MetricsAddr   string
	DatabaseURL   string
	AI            ai.Config
	MinScore      float64
	Domains       []string
	AdminEmail    string
	AdminPassword string
	JWTSecret     string
	TokenTTL      time.Duration
	CORSOrigins   []string
	Proxies       []netip.Prefix // CRM_TRUSTED_PROXIES
	RateLimit     int            // CRM_RATE_LIMIT, requests per minute; 0 off
	AIDailyQuota  int            // CRM_AI_DAILY_QUOTA, analyses per user per day; 0 off
	LogFormat     string
	LogLevel      string
	BcryptCost    int

	// Webhooks and the job engine.
	WebhookAllowPrivate bool
	TelegramAPI         string
	WebhookSchedule     []time.Duration
	JobTimeout          time.Duration
	JobRescueAfter      time.Duration

	// The feedback loop: how often calibrations are refitted, how often a
	// running batch is polled, the monthly budget of batch work.
	RefitInterval     time.Duration
	BatchPollInterval time.Duration
	MonthlyBudgetUSD  float64

	// Tracing: the standard OpenTelemetry variables; off without an endpoint.
	Tracing tracing.Config
}

// envWithDotenv returns a getenv that falls back to the .env file's values.
func envWithDotenv(getenv func(string) string) (func(string) string, error) {
	file := map[string]string{}
	if _, err := os.Stat(".env"); err == nil {
		m, err := godotenv.Read(".env")
		if err != nil {
			return nil, fmt.Errorf(".env: %w", err)
		}
		file = m
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return file[k]
	}, nil
}

// loadConfig reads and checks the configuration; an error names the variable.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:          or(getenv("CRM_ADDR"), ":8000"),
		MetricsAddr:   getenv("CRM_METRICS_ADDR"),
		DatabaseURL:   or(getenv("DATABASE_URL"), "sqlite:data/crm-leads.db"),
		AdminEmail:    getenv("CRM_ADMIN_EMAIL"),
		AdminPassword: getenv("CRM_ADMIN_PASSWORD"),
		JWTSecret:     getenv("CRM_JWT_SECRET"),
		LogFormat:     or(getenv("CRM_LOG_FORMAT"), "text"),
		LogLevel:      or(getenv("CRM_LOG_LEVEL"), "info"),
		AI: ai.Config{
			Provider:      getenv("CRM_AI_PROVIDER"),
			APIKey:        getenv("ANTHROPIC_API_KEY"),
			BaseURL:       getenv("ANTHROPIC_BASE_URL"),
			Model:         getenv("CRM_AI_MODEL"),
			PromptVersion: getenv("CRM_AI_PROMPT_VERSION"),
		},
	}
	var err error
	if c.AI.Timeout, err = duration(getenv, "CRM_AI_TIMEOUT", 20*time.Second); err != nil {
		return c, err
	}
	if c.TokenTTL, err = duration(getenv, "CRM_TOKEN_TTL", time.Hour); err != nil {
		return c, err
	}
	switch c.AI.Provider {
	case "", "claude", "baseline":
	default:
		return c, fmt.Errorf("CRM_AI_PROVIDER: %q is not claude or baseline", c.AI.Provider)
	}
	if c.AI.Provider == "claude" && c.AI.APIKey == "" {
		return c, fmt.Errorf("CRM_AI_PROVIDER: claude needs ANTHROPIC_API_KEY")
	}
	c.MinScore = crm.DefaultMinScore
	if v := getenv("CRM_TRANSFER_MIN_SCORE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return c, fmt.Errorf("CRM_TRANSFER_MIN_SCORE: %q is not a number in (0, 1]", v)
		}
		c.MinScore = f
	}
	c.Domains = list(or(getenv("CRM_BUSINESS_DOMAINS"), "first,second,third"))
	if len(c.Domains) == 0 {
		return c, fmt.Errorf("CRM_BUSINESS_DOMAINS: the catalog is empty")
	}
	for _, d := range c.Domains {
		if len(d) > crm.MaxDomainLength {
			return c, fmt.Errorf("CRM_BUSINESS_DOMAINS: %q is longer than %d characters", d, crm.MaxDomainLength)
		}
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return c, fmt.Errorf("DATABASE_URL: %q is neither sqlite:PATH nor postgres://…", c.DatabaseURL)
	}
	for _, l := range []struct {
		name string
		def  int
		to   *int
	}{{"CRM_RATE_LIMIT", 1200, &c.RateLimit}, {"CRM_AI_DAILY_QUOTA", 500, &c.AIDailyQuota}} {
		*l.to = l.def
		if v := getenv(l.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("%s: %q is not a whole number ≥ 0 (0 turns it off)", l.name, v)
			}
			*l.to = n
		}
	}
	if c.Proxies, err = request.ParseProxies(getenv("CRM_TRUSTED_PROXIES")); err != nil {
		return c, fmt.Errorf("CRM_TRUSTED_PROXIES: %v (want addresses or CIDR prefixes, comma-separated)", err)
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return c, fmt.Errorf("CRM_JWT_SECRET: must be at least 32 characters")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return c, fmt.Errorf("CRM_ADMIN_EMAIL and CRM_ADMIN_PASSWORD: set both or neither")
	}
	if c.AdminPassword != "" && len([]rune(c.AdminPassword)) < crm.MinPasswordLength {
		return c, fmt.Errorf("CRM_ADMIN_PASSWORD: must be at least %d characters", crm.MinPasswordLength)
	}
	c.CORSOrigins = list(getenv("CRM_CORS_ORIGINS"))
	switch c.LogFormat {
	case "text", "json":
	default:
		return c, fmt.Errorf("CRM_LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, fmt.Errorf("CRM_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	switch v := getenv("CRM_WEBHOOK_ALLOW_PRIVATE"); v {
	case "", "false":
	case "true":
		c.WebhookAllowPrivate = true
	default:
		return c, fmt.Errorf("CRM_WEBHOOK_ALLOW_PRIVATE: %q is not true or false", v)
	}
	c.TelegramAPI = getenv("CRM_TELEGRAM_API_URL")
	if c.TelegramAPI != "" {
		if u, err := url.Parse(c.TelegramAPI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("CRM_TELEGRAM_API_URL: %q is not an http(s) URL", c.TelegramAPI)
		}
	}
	if v := getenv("CRM_WEBHOOK_SCHEDULE"); v != "" {
		for _, f := range list(v) {
			d, err := time.ParseDuration(f)
			if err != nil || d < 0 {
				return c, fmt.Errorf("CRM_WEBHOOK_SCHEDULE: %q is not a list of durations like 0s,5s,5m", v)
			}
			c.WebhookSchedule = append(c.WebhookSchedule, d)
		}
	}
	if c.JobTimeout, err = duration(getenv, "CRM_JOB_TIMEOUT", jobs.DefaultJobTimeout); err != nil {
		return c, err
	}
	if c.JobRescueAfter, err = duration(getenv, "CRM_JOB_RESCUE_AFTER", jobs.DefaultRescueAfter); err != nil {
		return c, err
	}
	if c.JobRescueAfter <= c.JobTimeout {
		return c, fmt.Errorf("CRM_JOB_RESCUE_AFTER: must be longer than CRM_JOB_TIMEOUT (%s)", c.JobTimeout)
	}
	if c.RefitInterval, err = duration(getenv, "CRM_AI_REFIT_INTERVAL", jobs.DefaultRefitInterval); err != nil {
		return c, err
	}
	if c.RefitInterval < time.Second {
		// River's periodic jobs run at most once a second.
		return c, fmt.Errorf("CRM_AI_REFIT_INTERVAL: must be at least 1s")
	}
	if c.BatchPollInterval, err = duration(getenv, "CRM_AI_BATCH_POLL_INTERVAL", crm.DefaultBatchPollInterval); err != nil {
		return c, err
	}
	if v := getenv("CRM_AI_MONTHLY_BUDGET_USD"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return c, fmt.Errorf("CRM_AI_MONTHLY_BUDGET_USD: %q is not an amount of US dollars like 50 (0 = no budget)", v)
		}
		c.MonthlyBudgetUSD = f
	}
	if getenv("OTEL_SDK_DISABLED") != "true" {
		c.Tracing = tracing.Config{Endpoint: getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
			TracesEndpoint: getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), ServiceName: getenv("OTEL_SERVICE_NAME"),
			Version: version}
		if c.Tracing.Enabled() {
			if _, err := c.Tracing.URL(); err != nil {
				return c, err
			}
		}
	}
	c.BcryptCost = 0
	if v := getenv("CRM_BCRYPT_COST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 || n > 31 {
			return c, fmt.Errorf("CRM_BCRYPT_COST: %q is not a number from 4 to 31", v)
		}
		c.BcryptCost = n
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func duration(getenv func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration like 20s", key, v)
	}
	return d, nil
}
