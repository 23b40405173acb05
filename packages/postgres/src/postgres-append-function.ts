import type { PostgresSchema } from './postgres-schema.ts';

/**
 * The PL/pgSQL function behind every append: `append_many(requests jsonb)` runs each request's
 * idempotency check, version check and inserts, and returns one row per request. It has no
 * EXCEPTION blocks: a failing request is reported in its row instead of raised, so there are no
 * subtransactions and one conflict never aborts the batch.
 */
export function appendFunctionSql(schema: PostgresSchema): string {
  const s = schema.sql;
  return `
CREATE OR REPLACE FUNCTION ${s}.append_many(requests jsonb)
RETURNS TABLE (
  request_index int, ok boolean, stream_version bigint, stream_positions bigint[],
  global_positions bigint[], actual_version bigint, deduplicated boolean,
  idempotency_conflict boolean, conflicting_ids text[]
)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  request jsonb;
  position_in_batch bigint;
  sid text;
  expected jsonb;
  event_count int;
  ids text[];
  found_count int;
  found_in_stream int;
  new_version bigint;
  positions bigint[];
  wrote boolean := false;
BEGIN
  -- The xid must exist before any position is taken from the sequence: the global reader's
  -- gap proof relies on "a missing position belongs to a transaction that already had its xid".
  PERFORM pg_current_xact_id();
  FOR request, position_in_batch IN
    SELECT r.value, r.ordinality - 1 FROM jsonb_array_elements(requests) WITH ORDINALITY AS r
  LOOP
    sid := request->>'streamId';
    expected := request->'expectedVersion';
    event_count := jsonb_array_length(request->'events');
    ids := ARRAY(SELECT e->>'id' FROM jsonb_array_elements(request->'events') AS e);

    -- Idempotency: all ids already in this stream = a retry (return the original positions);
    -- any other overlap (another stream, some ids, an id twice in the request) = a conflict.
    SELECT count(*), count(*) FILTER (WHERE ev.stream_id = sid)
      INTO found_count, found_in_stream
      FROM ${s}.events AS ev WHERE ev.event_id = ANY (ids);
    IF found_count > 0 OR cardinality(ARRAY(SELECT DISTINCT unnest(ids))) <> event_count THEN
      IF found_in_stream = event_count AND found_count = event_count
         AND cardinality(ARRAY(SELECT DISTINCT unnest(ids))) = event_count THEN
        RETURN QUERY
          SELECT position_in_batch::int, true,
                 (SELECT st.version FROM ${s}.streams AS st WHERE st.stream_id = sid),
                 array_agg(ev.stream_position ORDER BY i.ordinality),
                 array_agg(ev.global_position ORDER BY i.ordinality),
                 NULL::bigint, true, false, NULL::text[]
            FROM unnest(ids) WITH ORDINALITY AS i(id, ordinality)
            JOIN ${s}.events AS ev ON ev.event_id = i.id;
      ELSE
        RETURN QUERY
          SELECT position_in_batch::int, false, NULL::bigint, NULL::bigint[], NULL::bigint[], NULL::bigint,
                 false, true,
                 ARRAY(SELECT ev.event_id || ' in ' || ev.stream_id FROM ${s}.events AS ev
                        WHERE ev.event_id = ANY (ids));
      END IF;
      CONTINUE;
    END IF;

    -- The version check writes (and row-locks) the streams row; no match means a conflict.
    new_version := NULL;
    IF event_count = 0 THEN
      SELECT coalesce(max(st.version), 0) INTO new_version FROM ${s}.streams AS st WHERE st.stream_id = sid;
      IF NOT (expected = '"any"' OR (expected = '"streamExists"' AND new_version > 0)
              OR (expected = '"noStream"' AND new_version = 0)
              OR (jsonb_typeof(expected) = 'number' AND new_version = expected::text::bigint)) THEN
        new_version := NULL;
      END IF;
    ELSIF expected = '"any"' THEN
      INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (sid, event_count)
        ON CONFLICT (stream_id) DO UPDATE SET version = st.version + event_count
        RETURNING st.version INTO new_version;
    ELSIF expected = '"noStream"' OR expected = '0' THEN
      INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (sid, event_count)
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING st.version INTO new_version;
    ELSIF expected = '"streamExists"' THEN
      UPDATE ${s}.streams AS st SET version = st.version + event_count WHERE st.stream_id = sid
        RETURNING st.version INTO new_version;
    ELSE
      UPDATE ${s}.streams AS st SET version = st.version + event_count
        WHERE st.stream_id = sid AND st.version = expected::text::bigint
        RETURNING st.version INTO new_version;
    END IF;

    IF new_version IS NULL THEN
      RETURN QUERY
        SELECT position_in_batch::int, false, NULL::bigint, NULL::bigint[], NULL::bigint[],
               coalesce((SELECT st.version FROM ${s}.streams AS st WHERE st.stream_id = sid), 0),
               false, false, NULL::text[];
      CONTINUE;
    END IF;

    -- Positions are taken one by one, in event order, after the version check succeeded.
    positions := ARRAY(
      SELECT nextval('${s}.events_global_position_seq') FROM generate_series(1, event_count)
    );
    INSERT INTO ${s}.events (
      global_position, stream_id, stream_position, event_id, type, schema_version,
      correlation_id, causation_id, occurred_at, metadata, data
    )
    SELECT positions[e.ordinality], sid, new_version - event_count + e.ordinality, e.value->>'id',
           e.value->>'type', (e.value->>'schemaVersion')::int, e.value->>'correlationId',
           e.value->>'causationId', (e.value->>'occurredAt')::timestamptz,
           coalesce(e.value->'metadata', '{}'::jsonb), coalesce(e.value->'data', 'null'::jsonb)
      FROM jsonb_array_elements(request->'events') WITH ORDINALITY AS e;

    INSERT INTO ${s}.outbox (message_id, destination, ordering_key, type, payload)
    SELECT m.value->>'id', m.value->>'destination', m.value->>'orderingKey', m.value->>'type',
           coalesce(m.value->'payload', 'null'::jsonb)
      FROM jsonb_array_elements(coalesce(request->'outbox', '[]'::jsonb)) WITH ORDINALITY AS m
     ORDER BY m.ordinality
    ON CONFLICT (message_id) DO NOTHING;

    wrote := true;
    RETURN QUERY
      SELECT position_in_batch::int, true, new_version,
             ARRAY(SELECT generate_series(new_version - event_count + 1, new_version)),
             positions, NULL::bigint, false, false, NULL::text[];
  END LOOP;
  IF wrote THEN
    -- Delivered to listeners at COMMIT only (and collapsed to one per transaction).
    PERFORM pg_notify('${schema.channel}', '');
  END IF;
END
$fn$;`;
}
