import type { PostgresSchema } from './postgres-schema.ts';

/**
 * The PL/pgSQL function behind every append: `append_many(requests jsonb)` runs each request's
 * version check, inserts and idempotency check, and returns one row per request. It has no
 * EXCEPTION blocks and raises nothing for a conflict: a failing request is reported in its row,
 * so there are no subtransactions and one bad request never aborts its neighbours. It sends no
 * NOTIFY either (that would serialize the commits of concurrent appends); the adapter announces
 * changes after the commit.
 *
 * The common case costs two statements per request: the version check on `streams` and the
 * events INSERT. Event ids are checked by the unique index (`ON CONFLICT (event_id) DO NOTHING`);
 * when a row is missing, the request's own writes are undone in place and the ids are looked up
 * to tell a retry (return the original positions) from an id conflict.
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
  own_xid xid8;
  request jsonb;
  position_in_batch int;
  sid text;
  expected jsonb;
  request_events jsonb;
  event jsonb;
  event_count int;
  new_version bigint;
  written int;
BEGIN
  -- The xid must exist before any position is taken from the sequence: the global reader's
  -- gap proof relies on "a missing position belongs to a transaction that already had its xid".
  -- (Plain assignments and IFs are PL/pgSQL's cheap "simple expressions"; queries cost more.)
  own_xid := pg_current_xact_id();
  FOR position_in_batch IN 0 .. jsonb_array_length(requests) - 1 LOOP
    request := requests->position_in_batch;
    sid := request->>'streamId';
    expected := request->'expectedVersion';
    request_events := request->'events';
    event_count := jsonb_array_length(request_events);
    request_index := position_in_batch;

    -- The version check writes (and row-locks) the streams row; no match means a conflict.
    new_version := NULL;
    IF event_count = 0 THEN
      SELECT coalesce(max(st.version), 0) INTO new_version FROM ${s}.streams AS st WHERE st.stream_id = sid;
      IF NOT (expected = '"any"' OR (expected = '"streamExists"' AND new_version > 0)
              OR (expected = '"noStream"' AND new_version = 0)
              OR (jsonb_typeof(expected) = 'number' AND new_version = expected::text::bigint)) THEN
        new_version := NULL;
      END IF;
    ELSIF expected = '"noStream"' OR expected = '0' THEN
      INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (sid, event_count)
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING st.version INTO new_version;
    ELSIF expected = '"any"' THEN
      INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (sid, event_count)
        ON CONFLICT (stream_id) DO UPDATE SET version = st.version + event_count
        RETURNING st.version INTO new_version;
    ELSIF expected = '"streamExists"' THEN
      UPDATE ${s}.streams AS st SET version = st.version + event_count WHERE st.stream_id = sid
        RETURNING st.version INTO new_version;
    ELSE
      UPDATE ${s}.streams AS st SET version = st.version + event_count
        WHERE st.stream_id = sid AND st.version = expected::text::bigint
        RETURNING st.version INTO new_version;
    END IF;

    written := 0;
    IF new_version IS NOT NULL AND event_count > 0 THEN
      -- Positions are taken in event order, after the version check succeeded; a skipped
      -- duplicate only burns its position. One event (the common case) needs no array scan.
      IF event_count = 1 THEN
        global_positions := ARRAY[nextval('${s}.events_global_position_seq')];
        stream_positions := ARRAY[new_version];
        event := request_events->0;
        INSERT INTO ${s}.events (
          global_position, stream_id, stream_position, event_id, type, schema_version,
          correlation_id, causation_id, occurred_at, metadata, data
        ) VALUES (
          global_positions[1], sid, new_version, event->>'id', event->>'type',
          (event->>'schemaVersion')::int, event->>'correlationId', event->>'causationId',
          (event->>'occurredAt')::timestamptz, coalesce(event->'metadata', '{}'::jsonb),
          coalesce(event->'data', 'null'::jsonb)
        )
        ON CONFLICT (event_id) DO NOTHING;
      ELSE
        global_positions := ARRAY(
          SELECT nextval('${s}.events_global_position_seq') FROM generate_series(1, event_count)
        );
        stream_positions := ARRAY(SELECT generate_series(new_version - event_count + 1, new_version));
        INSERT INTO ${s}.events (
          global_position, stream_id, stream_position, event_id, type, schema_version,
          correlation_id, causation_id, occurred_at, metadata, data
        )
        SELECT global_positions[e.ordinality], sid, stream_positions[e.ordinality], e.value->>'id',
               e.value->>'type', (e.value->>'schemaVersion')::int, e.value->>'correlationId',
               e.value->>'causationId', (e.value->>'occurredAt')::timestamptz,
               coalesce(e.value->'metadata', '{}'::jsonb), coalesce(e.value->'data', 'null'::jsonb)
          FROM jsonb_array_elements(request_events) WITH ORDINALITY AS e
        ON CONFLICT (event_id) DO NOTHING;
      END IF;
      GET DIAGNOSTICS written = ROW_COUNT;

      IF written < event_count THEN
        -- An id is already stored (or repeated in the request): undo this request's writes.
        DELETE FROM ${s}.events AS ev WHERE ev.global_position = ANY (global_positions);
        UPDATE ${s}.streams AS st SET version = st.version - event_count WHERE st.stream_id = sid;
        DELETE FROM ${s}.streams AS st WHERE st.stream_id = sid AND st.version = 0;
        new_version := NULL;
      END IF;
    END IF;

    IF new_version IS NOT NULL THEN
      IF jsonb_array_length(coalesce(request->'outbox', '[]'::jsonb)) > 0 THEN
        INSERT INTO ${s}.outbox (message_id, destination, ordering_key, type, payload)
        SELECT m.value->>'id', m.value->>'destination', m.value->>'orderingKey', m.value->>'type',
               coalesce(m.value->'payload', 'null'::jsonb)
          FROM jsonb_array_elements(request->'outbox') WITH ORDINALITY AS m
         ORDER BY m.ordinality
        ON CONFLICT (message_id) DO NOTHING;
      END IF;
      ok := true;
      stream_version := new_version;
      IF event_count = 0 THEN
        stream_positions := '{}';
        global_positions := '{}';
      END IF;
      actual_version := NULL;
      deduplicated := false;
      idempotency_conflict := false;
      conflicting_ids := NULL;
      RETURN NEXT;
      CONTINUE;
    END IF;

    RETURN QUERY SELECT * FROM ${s}.append_failure(position_in_batch::int, sid, request_events);
  END LOOP;
END
$fn$;

-- Why a request wrote nothing: all its ids already in this stream (a retry: the original
-- positions), an id stored elsewhere or repeated (a conflict), or else the version check.
CREATE OR REPLACE FUNCTION ${s}.append_failure(failed_index int, sid text, request_events jsonb)
RETURNS TABLE (
  request_index int, ok boolean, stream_version bigint, stream_positions bigint[],
  global_positions bigint[], actual_version bigint, deduplicated boolean,
  idempotency_conflict boolean, conflicting_ids text[]
)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  ids text[] := ARRAY(SELECT e->>'id' FROM jsonb_array_elements(request_events) AS e);
  distinct_count int := cardinality(ARRAY(SELECT DISTINCT unnest(ids)));
  found_count int;
  found_in_stream int;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE ev.stream_id = sid)
    INTO found_count, found_in_stream
    FROM ${s}.events AS ev WHERE ev.event_id = ANY (ids);
  IF found_count = cardinality(ids) AND found_in_stream = found_count AND distinct_count = found_count
     AND found_count > 0 THEN
    RETURN QUERY
      SELECT failed_index, true,
             (SELECT st.version FROM ${s}.streams AS st WHERE st.stream_id = sid),
             array_agg(ev.stream_position ORDER BY i.ordinality),
             array_agg(ev.global_position ORDER BY i.ordinality),
             NULL::bigint, true, false, NULL::text[]
        FROM unnest(ids) WITH ORDINALITY AS i(id, ordinality)
        JOIN ${s}.events AS ev ON ev.event_id = i.id;
  ELSIF found_count > 0 OR distinct_count <> cardinality(ids) THEN
    RETURN QUERY
      SELECT failed_index, false, NULL::bigint, NULL::bigint[], NULL::bigint[], NULL::bigint,
             false, true,
             ARRAY(SELECT ev.event_id || ' in ' || ev.stream_id FROM ${s}.events AS ev
                    WHERE ev.event_id = ANY (ids));
  ELSE
    RETURN QUERY
      SELECT failed_index, false, NULL::bigint, NULL::bigint[], NULL::bigint[],
             coalesce((SELECT st.version FROM ${s}.streams AS st WHERE st.stream_id = sid), 0),
             false, false, NULL::text[];
  END IF;
END
$fn$;`;
}
