-- pgbench: one full lead row by key, a random one of the seeded leads
-- (bench_ids maps 1..N to their ids: one more index probe than the service
-- makes, inside the same statement).
\set k random(1, :nids)
SELECT l.* FROM leads l WHERE l.id = (SELECT id FROM bench_ids WHERE k = :k);
