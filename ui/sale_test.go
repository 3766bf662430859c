package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// TestSaleValueWithoutJS sets a deal's value on the sale page with a plain
// form: the owner sets it in English (a point), the page shows it with its
// currency and the trail records it; in Ukrainian the page shows and takes a
// decimal comma; a bad amount comes back next to its field with what was
// typed; a senior manager may set it, another manager gets the 404 page; a
// paid sale shows its value and no form, and refuses a forged one.
func TestSaleValueWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, sale := transferredLead(t, b.alice, b.svc)
	path := "/app/sales/" + sale.ID
	value := func() string {
		t.Helper()
		s, err := b.svc.Leads.Sale(as(b.admin), sale.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !s.HasValue() {
			return ""
		}
		return s.Amount.Format(s.Currency) + " " + s.Currency
	}

	en := b.client(t)
	en.login(b.alice.Email)
	p := en.get(path)
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{"No value set yet.", `id="sale-value-form"`, `name="currency" size="4" maxlength="3" autocomplete="off" value="UAH"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("a sale without a value: the page lacks %s", want)
		}
	}
	if p := en.post(path+"/value", url.Values{"amount": {"1250.5"}, "currency": {"eur"}}); p.status != http.StatusSeeOther {
		t.Fatalf("set the value: %d\n%s", p.status, p.body)
	}
	if got := value(); got != "1250.50 EUR" {
		t.Errorf("value = %q, want 1250.50 EUR", got)
	}
	p = en.get(path)
	for _, want := range []string{`id="sale-amount">1250.50` + "\u00a0" + `EUR<`, "The deal&#39;s value is now 1250.50\u00a0EUR.",
		"set the deal&#39;s value to 1250.50\u00a0EUR", `id="amount" name="amount" inputmode="decimal" size="14" value="1250.50"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after setting the value the page lacks %s\n%s", want, p.body)
		}
	}

	uk := b.client(t)
	uk.lang = "uk"
	uk.login(b.senior.Email)
	p = uk.get(path)
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `id="sale-amount">1250,50`+"\u00a0"+`EUR<`) || !strings.Contains(p.body, `value="1250,50"`) {
		t.Errorf("the Ukrainian page does not show the value with a decimal comma\n%s", p.body)
	}
	if p := uk.post(path+"/value", url.Values{"amount": {"99,9"}, "currency": {"EUR"}}); p.status != http.StatusSeeOther {
		t.Fatalf("a senior sets the value with a comma: %d\n%s", p.status, p.body)
	}
	if got := value(); got != "99.90 EUR" {
		t.Errorf("value = %q, want 99.90 EUR", got)
	}
	p = uk.post(path+"/value", url.Values{"amount": {"12,3,4"}, "currency": {"EUR"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.body, `<p class="field-error" id="amount-error">Введіть суму, наприклад 1250,00.</p>`) ||
		!strings.Contains(p.body, `value="12,3,4"`) {
		t.Errorf("a bad amount: no error next to the field, or the typed value is gone\n%s", p.body)
	}
	p = uk.post(path+"/value", url.Values{"amount": {"10"}, "currency": {"XYZ"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.body, `id="currency-error">Введіть код валюти`) {
		t.Errorf("an unknown currency: no error next to the field\n%s", p.body)
	}
	if got := value(); got != "99.90 EUR" {
		t.Errorf("refused forms changed the value to %q", got)
	}

	bob := b.client(t)
	bob.login(b.bob.Email)
	checkPage(t, bob.post(path+"/value", url.Values{"amount": {"1"}, "currency": {"EUR"}}), http.StatusNotFound)

	for _, st := range []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement, crm.SalePaid} {
		if _, err := b.svc.Leads.MoveSale(as(b.alice), sale.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	p = en.get(path)
	if strings.Contains(p.body, `id="sale-value-form"`) || !strings.Contains(p.body, `id="sale-amount">99.90`) {
		t.Errorf("a paid sale: the form is offered, or the value is not shown\n%s", p.body)
	}
	if p := en.post(path+"/value", url.Values{"amount": {"5"}, "currency": {"EUR"}}); p.status != http.StatusSeeOther {
		t.Errorf("a paid sale's value form: %d", p.status)
	}
	if got := value(); got != "99.90 EUR" {
		t.Errorf("a paid sale's value changed to %q", got)
	}
}
