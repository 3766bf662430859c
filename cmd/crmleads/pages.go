package main

import "github.com/crmleads/crm/web"

// mountPages adds the web app to the server; until it exists the service is
// API-only.
func mountPages(d *web.Deps) {}
