package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SettingBusinessDomains is the settings key of the business-domain catalog an
// admin configured; until then the catalog given in Config serves.
const SettingBusinessDomains = "business_domains"

// SettingTransferGate is the settings key of the score the transfer gate
// compares with its threshold: GateRaw (the default) or GateCalibrated.
const SettingTransferGate = "transfer_gate"

// MaxDomains bounds the size of the business-domain catalog.
const MaxDomains = 100

// Domains returns the business-domain catalog in force. It is read from the
// database on each call, so every replica applies an admin's change at once.
func (s *LeadService) Domains(ctx context.Context) ([]string, error) {
	v, err := s.store.Setting(ctx, SettingBusinessDomains)
	if IsKind(err, ENOTFOUND) {
		return slices.Clone(s.domains), nil
	}
	if err != nil {
		return nil, err
	}
	var d []string
	if err := json.Unmarshal([]byte(v), &d); err != nil {
		return nil, fmt.Errorf("business-domain catalog: stored value is not a JSON list: %w", err)
	}
	return d, nil
}

// CheckDomains returns the catalog cleaned up (trimmed), or EINVALID when it is
// empty, too long, or has a blank, overlong, duplicate or unprintable entry.
func CheckDomains(in []string) ([]string, error) {
	bad := func(msg string) error { return Invalid(FieldError{Field: "business_domains", Message: msg}) }
	if len(in) == 0 || len(in) > MaxDomains {
		return nil, bad(fmt.Sprintf("must list 1 to %d domains", MaxDomains))
	}
	out := make([]string, 0, len(in))
	for _, d := range in {
		d = strings.TrimSpace(d)
		switch {
		case !ValidText(d):
			return nil, bad("each domain " + MsgBadText)
		case d == "" || utf8.RuneCountInString(d) > MaxDomainLength:
			return nil, bad(fmt.Sprintf("each domain must be 1 to %d characters", MaxDomainLength))
		case strings.ContainsFunc(d, func(r rune) bool { return !unicode.IsPrint(r) }):
			return nil, bad("a domain must be printable text")
		case slices.Contains(out, d):
			return nil, bad(fmt.Sprintf("%q is listed twice", d))
		}
		out = append(out, d)
	}
	return out, nil
}

// SetDomains replaces the business-domain catalog. Leads keep the domain they
// have; only new choices are checked against the new catalog.
// Errors: EFORBIDDEN (not an admin), EINVALID.
func (s *LeadService) SetDomains(ctx context.Context, domains []string) ([]string, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	domains, err = CheckDomains(domains)
	if err != nil {
		return nil, err
	}
	old, err := s.Domains(ctx)
	if err != nil {
		return nil, err
	}
	v, _ := json.Marshal(domains)
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.PutSetting(ctx, SettingBusinessDomains, string(v)); err != nil {
			return err
		}
		e := s.event(a, ActionSettingsUpdated, nil)
		e.Data = map[string]any{"changes": map[string]any{"business_domains": map[string]any{"from": old, "to": domains}}}
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return domains, nil
}

// domainsFor returns the catalog when a domain is being chosen, nil otherwise,
// so that most creates and edits do not read it.
func (s *LeadService) domainsFor(ctx context.Context, chosen bool) ([]string, error) {
	if !chosen {
		return nil, nil
	}
	return s.Domains(ctx)
}

// TransferGate returns the score the transfer gate uses: GateRaw unless an
// admin switched it to GateCalibrated. Read on each call, so every replica
// applies a switch at once.
func (s *LeadService) TransferGate(ctx context.Context) (string, error) {
	v, err := s.store.Setting(ctx, SettingTransferGate)
	if IsKind(err, ENOTFOUND) {
		return GateRaw, nil
	}
	if err != nil {
		return "", err
	}
	return v, nil
}

// SetTransferGate switches the transfer gate to the raw or the calibrated
// score; the switch is audited (settings.updated).
// Errors: EFORBIDDEN (not an admin), EINVALID.
func (s *LeadService) SetTransferGate(ctx context.Context, gate string) (string, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return "", err
	}
	if gate != GateRaw && gate != GateCalibrated {
		return "", Invalid(FieldError{Field: "transfer_gate", Message: "must be raw or calibrated"})
	}
	old, err := s.TransferGate(ctx)
	if err != nil {
		return "", err
	}
	if old == gate {
		return gate, nil
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.PutSetting(ctx, SettingTransferGate, gate); err != nil {
			return err
		}
		e := s.event(a, ActionSettingsUpdated, nil)
		e.Data = map[string]any{"changes": map[string]any{"transfer_gate": map[string]any{"from": old, "to": gate}}}
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return "", err
	}
	return gate, nil
}
