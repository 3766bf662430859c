package main

import (
	"github.com/crmleads/crm/ui"
	"github.com/crmleads/crm/web"
)

// mountPages adds the managers' web app (package ui) to the server, under
// /app/ and /static/, next to the JSON API.
func mountPages(d *web.Deps) { d.Pages = ui.Pages(d) }
