package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
)

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// TakeTokens takes a token from each bucket in one statement: ON CONFLICT DO
// UPDATE locks each existing row and evaluates its WHERE on the latest
// version, so concurrent requests on every replica take one token each and
// none from an empty bucket. The state of the refused buckets is read only
// when there are some.
func (db *DB) TakeTokens(ctx context.Context, keys []string, rate, burst float64, now time.Time) ([]crm.Bucket, error) {
	rows, err := db.limits.Query(ctx, `INSERT INTO limits AS b (key, tokens, at)
		SELECT k, $2::float8 - 1, $4::float8 FROM unnest($1::text[]) AS k
		ON CONFLICT (key) DO UPDATE SET
			tokens = LEAST($2, b.tokens + GREATEST(0, excluded.at - b.at) * $3) - 1,
			at = GREATEST(b.at, excluded.at)
		WHERE LEAST($2, b.tokens + GREATEST(0, excluded.at - b.at) * $3) >= 1
		RETURNING key`, keys, burst, rate, unixSeconds(now))
	if err != nil {
		return nil, classify("take tokens", err, "")
	}
	given, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, classify("take tokens", err, "")
	}
	if len(given) == len(keys) {
		return nil, nil
	}
	rows, err = db.limits.Query(ctx, `SELECT key, tokens, at FROM limits WHERE key = ANY($1) AND NOT key = ANY($2)`, keys, given)
	if err != nil {
		return nil, classify("read buckets", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Bucket, error) {
		var b crm.Bucket
		var at float64
		err := r.Scan(&b.Key, &b.Tokens, &at)
		b.At = time.Unix(0, int64(at*1e9)).UTC()
		return b, err
	})
	return out, classify("read buckets", err, "")
}

// TakeQuota counts a use in one statement, under the row's lock.
func (db *DB) TakeQuota(ctx context.Context, key string, limit int, now time.Time) (bool, error) {
	rows, err := db.limits.Query(ctx, `INSERT INTO limits AS b (key, tokens, at) VALUES ($1, 1, $3)
		ON CONFLICT (key) DO UPDATE SET tokens = b.tokens + 1, at = excluded.at WHERE b.tokens < $2
		RETURNING key`, key, limit, unixSeconds(now))
	if err != nil {
		return false, classify("take quota", err, "")
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return len(got) == 1, classify("take quota", err, "")
}

// PruneBuckets forgets the rows last used before t.
func (db *DB) PruneBuckets(ctx context.Context, before time.Time) error {
	_, err := db.limits.Exec(ctx, `DELETE FROM limits WHERE at < $1`, unixSeconds(before))
	return classify("prune buckets", err, "")
}

// TakeAISlot upserts a random free slot: a row absent, or present with an
// expired lease (the DO UPDATE's WHERE, evaluated on the latest version under
// the row's lock). Two processes racing for one slot take it once; the loser
// gets no row and tries again at its next poll.
func (db *DB) TakeAISlot(ctx context.Context, holder string, max int, now, expires time.Time) (bool, error) {
	rows, err := db.q.Query(ctx, `INSERT INTO ai_slots AS a (slot, holder, expires_at)
		SELECT s, $1, $4 FROM generate_series(0, $2::int - 1) s
		WHERE NOT EXISTS (SELECT 1 FROM ai_slots b WHERE b.slot = s AND b.expires_at > $3)
		ORDER BY random() LIMIT 1
		ON CONFLICT (slot) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE a.expires_at <= $3
		RETURNING slot`, holder, max, now, expires)
	if err != nil {
		return false, classify("take AI slot", err, "")
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	return len(got) == 1, classify("take AI slot", err, "")
}

// ReleaseAISlot deletes holder's lease.
func (db *DB) ReleaseAISlot(ctx context.Context, holder string) error {
	_, err := db.q.Exec(ctx, `DELETE FROM ai_slots WHERE holder = $1`, holder)
	return classify("release AI slot", err, "")
}
