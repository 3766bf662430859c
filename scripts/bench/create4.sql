-- pgbench: creating a lead and its event as a 4-statement transaction
-- (BEGIN, INSERT lead, INSERT event, COMMIT), the work of POST /leads.
\set n random(1, 2000000000)
BEGIN;
INSERT INTO leads (id, source, stage, name, email, owner_id, created_at, updated_at, email_key, name_key)
  VALUES (gen_random_uuid(), 'manual', 'new', 'Bench', 'p' || :client_id || '-' || :n || '@bench.example', :owner, now(), now(),
          'p' || :client_id || '-' || :n || '@bench.example', 'bench')
  RETURNING id AS lead \gset
INSERT INTO events (id, lead_id, user_id, action, to_state, actor_id, request_id, created_at)
  VALUES (gen_random_uuid(), :lead, :owner, 'lead.created', 'new', :owner, 'bench', now());
COMMIT;
