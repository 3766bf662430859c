package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"iter"
	"time"

	"github.com/crmleads/crm"
)

// direct is the baseline: the SQL each operation of the service boils down
// to, run straight on the database with the driver, the pool settings and the
// statement texts the store uses — no HTTP, no JSON, no authentication, no
// service layer.
type direct interface {
	// createLead: BEGIN; INSERT lead; INSERT event; COMMIT.
	createLead(ctx context.Context, l *crm.Lead, e *crm.Event) error
	// getLead: SELECT one lead by id (scanned like the store does).
	getLead(ctx context.Context, id string) error
	// moveLead: BEGIN; SELECT … (FOR NO KEY UPDATE); UPDATE lead; INSERT event; COMMIT.
	moveLead(ctx context.Context, id string, to crm.LeadStage, actorID string) error
	// listLeads: the list query with its filters, keyset cursor and LIMIT;
	// returns the number of rows read.
	listLeads(ctx context.Context, f crm.LeadFilter) (int, error)

	// insertLeads bulk-loads leads (seeding, not measured).
	insertLeads(ctx context.Context, leads iter.Seq[*crm.Lead]) error
	// leadIDAt returns the id of the lead at offset in the newest-first order.
	leadIDAt(ctx context.Context, offset int) (string, error)
	countLeads(ctx context.Context) (int, error)
	// sampleEmails returns the emails of n random leads; countEmailMatches
	// counts the leads whose email contains each fragment (-mode lists).
	sampleEmails(ctx context.Context, n int) ([]string, error)
	countEmailMatches(ctx context.Context, frags []string) (map[string]int, error)
	// boardGroupBy runs the boards' counts and totals as they were read
	// before the summary tables of migration 00013: GROUP BY over every lead
	// and sale.
	boardGroupBy(ctx context.Context) error
	close()
}

// Lead kinds, encoded in the ids the benchmark makes up for the leads it
// seeds, so it can name any of them again without keeping them in memory.
const (
	kindSeed      = 1 // the -seed-leads leads: the deep-page list and the get-lead pool
	kindStageHTTP = 2 // fresh leads for the stage change over HTTP
	kindStageSQL  = 3 // fresh leads for the stage change in direct SQL
)

// seedEpoch places the made-up leads in the past, so that every lead created
// during the run is newer than all of them (lists are newest first by id).
var seedEpoch = time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Millisecond)

// seedTime returns the creation time of the i-th lead of a kind: one
// millisecond apart, the stage pools older than the seeded leads.
func seedTime(kind byte, i int) time.Time {
	base := seedEpoch
	if kind != kindSeed {
		base = base.Add(-time.Duration(kind) * 24 * time.Hour)
	}
	return base.Add(time.Duration(i) * time.Millisecond)
}

// seedID returns the id of the i-th lead of a kind: a valid UUIDv7 whose time
// is seedTime, so id order is creation order as for real ids.
func seedID(kind byte, i int) string {
	var b [16]byte
	ms := uint64(seedTime(kind, i).UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	b[6] = 0x70 | kind&0x0f
	b[8] = 0x80
	binary.BigEndian.PutUint64(b[8:], uint64(i)&(1<<56-1))
	b[8] = 0x80 | kind&0x3f
	return crm.FormatUUID(b)
}

var (
	sources = []crm.Source{crm.SourceScanner, crm.SourcePartner, crm.SourceManual}
	domains = []string{"first", "second", "third"}
)

// seedLead returns the i-th made-up lead of a kind. Seeded leads spread over
// the stages (60% new, 20% contacted, 10% qualified, 10% lost), sources,
// owners and domains; stage-pool leads are all new.
func seedLead(kind byte, i int, owners []string) *crm.Lead {
	t := seedTime(kind, i).UTC()
	l := &crm.Lead{ID: seedID(kind, i), Source: sources[i%3], Stage: crm.LeadNew, MessagesCount: i % 17,
		Name: fmt.Sprintf("Seed lead %d", i), Email: fmt.Sprintf("lead%d@example.com", i),
		Phone: fmt.Sprintf("+380 44 %07d", i), Company: fmt.Sprintf("Company %d", i%997),
		OwnerID: owners[i%len(owners)], CreatedAt: t, UpdatedAt: t}
	if i%2 == 0 {
		l.BusinessDomain = domains[(i/2)%3]
	}
	if kind == kindSeed {
		switch i % 10 {
		case 6, 7:
			l.Stage = crm.LeadContacted
		case 8:
			l.Stage = crm.LeadQualified
		case 9:
			l.Stage = crm.LeadLost
		}
	}
	return l
}

// seedLeads yields n made-up leads of a kind.
func seedLeads(kind byte, n int, owners []string) iter.Seq[*crm.Lead] {
	return func(yield func(*crm.Lead) bool) {
		for i := range n {
			if !yield(seedLead(kind, i, owners)) {
				return
			}
		}
	}
}

// now returns the time the service would stamp.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// newLead and newEvent build what the service's CreateLead writes.
func newLead(n int64, ownerID string) *crm.Lead {
	t := now()
	return &crm.Lead{ID: crm.NewID(), Source: sources[n%3], Stage: crm.LeadNew, MessagesCount: int(n % 7),
		Name: fmt.Sprintf("Bench lead %d", n), Email: fmt.Sprintf("bench%d@example.com", n),
		OwnerID: ownerID, CreatedAt: t, UpdatedAt: t}
}

func newEvent(action string, leadID, actorID string, from, to crm.LeadStage) *crm.Event {
	return &crm.Event{ID: crm.NewID(), LeadID: leadID, Action: action, From: string(from), To: string(to),
		ActorID: actorID, RequestID: requestID(), CreatedAt: now()}
}

// requestID is a request id like the server's.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
