package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmleads/crm"
)

const (
	// The WHERE of DO UPDATE leaves an empty bucket untouched, and RETURNING
	// names only the rows written: the buckets that gave a token.
	// ("WHERE true" lets SQLite parse the upsert after a SELECT.)
	qTakeTokens = `INSERT INTO limits (key, tokens, at)
		SELECT value, ?1 - 1, ?3 FROM json_each(?4) WHERE true
		ON CONFLICT (key) DO UPDATE SET
			tokens = min(?1, tokens + max(0, excluded.at - at) * ?2) - 1,
			at = max(at, excluded.at)
		WHERE min(?1, tokens + max(0, excluded.at - at) * ?2) >= 1
		RETURNING key`
	qBuckets   = `SELECT key, tokens, at FROM limits WHERE key IN (SELECT value FROM json_each(?))`
	qTakeQuota = `INSERT INTO limits (key, tokens, at) VALUES (?1, 1, ?3)
		ON CONFLICT (key) DO UPDATE SET tokens = tokens + 1, at = excluded.at WHERE tokens < ?2
		RETURNING key`
	qPruneLimit = `DELETE FROM limits WHERE at < ?`
	// The lowest slot nobody holds, or whose lease ended, in one upsert.
	qTakeAISlot = `WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < ?2)
		INSERT INTO ai_slots (slot, holder, expires_at)
		SELECT n, ?1, ?4 FROM s WHERE NOT EXISTS (SELECT 1 FROM ai_slots b WHERE b.slot = n AND b.expires_at > ?3)
		ORDER BY n LIMIT 1
		ON CONFLICT (slot) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE expires_at <= ?3
		RETURNING slot`
	qReleaseAISlot = `DELETE FROM ai_slots WHERE holder = ?`
)

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func fromUnixSeconds(s float64) time.Time { return time.Unix(0, int64(s*1e9)).UTC() }

// TakeTokens takes a token from each bucket in one statement on the writer.
func (db *DB) TakeTokens(ctx context.Context, keys []string, rate, burst float64, now time.Time) ([]crm.Bucket, error) {
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("sqlite: take tokens: %w", err)
	}
	s, err := db.stmt(ctx, true, qTakeTokens)
	if err != nil {
		return nil, mapErr("take tokens", "", err)
	}
	rows, err := s.QueryContext(ctx, burst, rate, unixSeconds(now), string(list))
	if err != nil {
		return nil, mapErr("take tokens", "", err)
	}
	given := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, mapErr("take tokens", "", err)
		}
		given[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr("take tokens", "", err)
	}
	if len(given) == len(keys) {
		return nil, nil
	}
	var refused []string
	for _, k := range keys {
		if !given[k] {
			refused = append(refused, k)
		}
	}
	list, _ = json.Marshal(refused)
	rs, err := db.stmt(ctx, true, qBuckets)
	if err != nil {
		return nil, mapErr("read buckets", "", err)
	}
	rows, err = rs.QueryContext(ctx, string(list))
	if err != nil {
		return nil, mapErr("read buckets", "", err)
	}
	defer rows.Close()
	var out []crm.Bucket
	for rows.Next() {
		var b crm.Bucket
		var at float64
		if err := rows.Scan(&b.Key, &b.Tokens, &at); err != nil {
			return nil, mapErr("read buckets", "", err)
		}
		b.At = fromUnixSeconds(at)
		out = append(out, b)
	}
	return out, mapErr("read buckets", "", rows.Err())
}

// TakeQuota counts a use in one statement on the writer.
func (db *DB) TakeQuota(ctx context.Context, key string, limit int, now time.Time) (bool, error) {
	s, err := db.stmt(ctx, true, qTakeQuota)
	if err != nil {
		return false, mapErr("take quota", "", err)
	}
	rows, err := s.QueryContext(ctx, key, limit, unixSeconds(now))
	if err != nil {
		return false, mapErr("take quota", "", err)
	}
	defer rows.Close()
	ok := rows.Next()
	return ok, mapErr("take quota", "", rows.Err())
}

// PruneBuckets forgets the rows last used before t.
func (db *DB) PruneBuckets(ctx context.Context, before time.Time) error {
	return mapErr("prune buckets", "", db.exec(ctx, qPruneLimit, unixSeconds(before)))
}

// TakeAISlot takes a slot in one statement on the writer.
func (db *DB) TakeAISlot(ctx context.Context, holder string, max int, now, expires time.Time) (bool, error) {
	if max < 1 {
		return false, nil
	}
	s, err := db.stmt(ctx, true, qTakeAISlot)
	if err != nil {
		return false, mapErr("take AI slot", "", err)
	}
	rows, err := s.QueryContext(ctx, holder, max, fmtTime(now), fmtTime(expires))
	if err != nil {
		return false, mapErr("take AI slot", "", err)
	}
	defer rows.Close()
	ok := rows.Next()
	return ok, mapErr("take AI slot", "", rows.Err())
}

// ReleaseAISlot deletes holder's lease.
func (db *DB) ReleaseAISlot(ctx context.Context, holder string) error {
	return mapErr("release AI slot", "", db.exec(ctx, qReleaseAISlot, holder))
}
