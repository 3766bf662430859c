-- pgbench: the same lead and event as one statement (one round trip).
\set n random(1, 2000000000)
WITH l AS (
  INSERT INTO leads (id, source, stage, name, email, owner_id, created_at, updated_at, email_key, name_key)
  VALUES (gen_random_uuid(), 'manual', 'new', 'Bench', 'q' || :client_id || '-' || :n || '@bench.example', :owner, now(), now(),
          'q' || :client_id || '-' || :n || '@bench.example', 'bench')
  RETURNING id)
INSERT INTO events (id, lead_id, user_id, action, to_state, actor_id, request_id, created_at)
  SELECT gen_random_uuid(), l.id, :owner, 'lead.created', 'new', :owner, 'bench', now() FROM l;
