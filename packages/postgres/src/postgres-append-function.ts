import type { PostgresSchema } from './postgres-schema.ts';

/**
 * The PL/pgSQL function behind every append: `append_many(requests, handoff_owner, handoff_lease_ms)` runs each request's
 * version check, inserts and idempotency check, and returns one row per request. It has no
 * EXCEPTION blocks and raises nothing for a conflict: a failing request is reported in its row,
 * so there are no subtransactions and one bad request never aborts its neighbours. It sends no
 * NOTIFY either (that would serialize the commits of concurrent appends); the adapter announces
 * changes after the commit.
 *
 * There is no streams table: the version check is the events table's UNIQUE (stream_id,
 * stream_position) index. A request inserts its events right after the version it expects, with
 * `ON CONFLICT DO NOTHING` (every unique index is an arbiter, so a taken position or event id
 * skips the row instead of raising). Fewer rows than events means the request lost: its own rows
 * are deleted in place and `append_failure` tells a retry (the original positions) from an id
 * conflict or a version conflict. The common case (`noStream`, one event) is one INSERT.
 *
 * Per-stream order (the global reader delivers by global position, so S@n+1 must take its
 * position from the sequence only after S@n committed):
 * - A number n: `EXISTS` sees S@n before nextval, and only committed rows (or this transaction's
 *   own) are visible; committed events never disappear, so S@n had its position already.
 * - `any` / `streamExists`: the max read before nextval is committed (or our own), same argument.
 * - `noStream`: position 1 has no predecessor.
 * - Our INSERT may wait on another transaction's uncommitted S@n+1 (the unique index makes it
 *   wait). If that one commits, ours does nothing for that row, the request's rows are undone and
 *   a retry takes a NEW nextval, after the other committed; the position taken before the wait is
 *   burned (this transaction's xid already holds it, so the reader's gap proof still covers it).
 *   If it aborts, ours goes in with a position taken after S@n committed: still in order.
 * Deadlocks: concurrent batches wait on each other's index entries, so the adapter sorts each
 * batch by stream id; all batches then take them in the same order.
 */
/**
 * An outbox insert of the rows `source` selects (message_id, destination, ordering_key, type,
 * payload, ordinality). With a handoff owner, a row whose key has no unpublished row held by
 * anyone else is written leased to it, and its id is added to `handed_ids` (see the outbox
 * store's handed enqueue, which this mirrors).
 */
function handedInsert(s: string, source: string): string {
  return `WITH m AS MATERIALIZED (
          SELECT src.*, handoff_owner IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM ${s}.outbox AS b
                    WHERE b.published_at IS NULL AND b.ordering_key = src.ordering_key
                      AND b.lease_owner IS DISTINCT FROM handoff_owner) AS handed
            FROM (${source}) AS src
        ), inserted AS (
          INSERT INTO ${s}.outbox (message_id, destination, ordering_key, type, payload, lease_owner, lease_until, attempts)
          SELECT m.message_id, m.destination, m.ordering_key, m.type, m.payload,
                 CASE WHEN m.handed THEN handoff_owner END,
                 CASE WHEN m.handed THEN clock_timestamp() + handoff_lease_ms * interval '1 millisecond' END,
                 CASE WHEN m.handed THEN 1 ELSE 0 END
            FROM m ORDER BY m.ordinality
          ON CONFLICT (message_id) DO NOTHING
          RETURNING outbox.message_id, outbox.lease_owner IS NOT NULL AS handed
        )
        SELECT handed_ids || coalesce(array_agg(i.message_id) FILTER (WHERE i.handed), '{}')
          INTO handed_ids FROM inserted AS i;`;
}

export function appendFunctionSql(schema: PostgresSchema): string {
  const s = schema.sql;
  return `
CREATE OR REPLACE FUNCTION ${s}.append_many(requests jsonb, handoff_owner text, handoff_lease_ms int)
RETURNS TABLE (
  request_index int, ok boolean, stream_version bigint, stream_positions bigint[],
  global_positions bigint[], actual_version bigint, deduplicated boolean,
  idempotency_conflict boolean, conflicting_ids text[], handed_ids text[]
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
  base bigint;
  current_version bigint;
  new_version bigint;
  written int;
  attempt int;
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
    new_version := NULL;
    -- base: the version the events go after; stays NULL when the version check fails.
    base := NULL;
    IF event_count = 0 THEN
      -- Nothing to insert: the stream must be at the expected version now.
      SELECT coalesce(max(ev.stream_position), 0) INTO current_version
        FROM ${s}.events AS ev WHERE ev.stream_id = sid;
      IF expected = '"any"' OR (expected = '"streamExists"' AND current_version > 0)
         OR (expected = '"noStream"' AND current_version = 0)
         OR (jsonb_typeof(expected) = 'number' AND current_version = expected::text::bigint) THEN
        new_version := current_version;
      END IF;
    ELSIF expected = '"noStream"' OR expected = '0' THEN
      base := 0;
    ELSIF jsonb_typeof(expected) = 'number' THEN
      IF EXISTS (SELECT FROM ${s}.events AS ev
                  WHERE ev.stream_id = sid AND ev.stream_position = expected::text::bigint) THEN
        base := expected::text::bigint;
      END IF;
    ELSE
      SELECT coalesce(max(ev.stream_position), 0) INTO base FROM ${s}.events AS ev WHERE ev.stream_id = sid;
      IF expected = '"streamExists"' AND base = 0 THEN
        base := NULL;
      END IF;
    END IF;

    attempt := 0;
    WHILE base IS NOT NULL LOOP
      attempt := attempt + 1;
      -- Positions are taken in event order, after the version check; an undone row only burns
      -- its position. One event (the common case) needs no array scan.
      IF event_count = 1 THEN
        global_positions := ARRAY[nextval('${s}.events_global_position_seq')];
        stream_positions := ARRAY[base + 1];
        event := request_events->0;
        INSERT INTO ${s}.events (
          global_position, stream_id, stream_position, event_id, type, schema_version,
          correlation_id, causation_id, occurred_at, metadata, data
        ) VALUES (
          global_positions[1], sid, base + 1, event->>'id', event->>'type',
          (event->>'schemaVersion')::int, event->>'correlationId', event->>'causationId',
          (event->>'occurredAt')::timestamptz, coalesce(event->'metadata', '{}'::jsonb),
          coalesce(event->'data', 'null'::jsonb)
        )
        ON CONFLICT DO NOTHING;
      ELSE
        global_positions := ARRAY(
          SELECT nextval('${s}.events_global_position_seq') FROM generate_series(1, event_count)
        );
        stream_positions := ARRAY(SELECT generate_series(base + 1, base + event_count));
        INSERT INTO ${s}.events (
          global_position, stream_id, stream_position, event_id, type, schema_version,
          correlation_id, causation_id, occurred_at, metadata, data
        )
        SELECT global_positions[e.ordinality], sid, stream_positions[e.ordinality], e.value->>'id',
               e.value->>'type', (e.value->>'schemaVersion')::int, e.value->>'correlationId',
               e.value->>'causationId', (e.value->>'occurredAt')::timestamptz,
               coalesce(e.value->'metadata', '{}'::jsonb), coalesce(e.value->'data', 'null'::jsonb)
          FROM jsonb_array_elements(request_events) WITH ORDINALITY AS e
        ON CONFLICT DO NOTHING;
      END IF;
      GET DIAGNOSTICS written = ROW_COUNT;
      IF written = event_count THEN
        new_version := base + event_count;
        EXIT;
      END IF;

      -- A position or an id is taken (or an id repeated in the request): undo this request.
      IF written > 0 THEN
        DELETE FROM ${s}.events AS ev WHERE ev.global_position = ANY (global_positions);
      END IF;
      -- Only any/streamExists go again, and only when the stream moved: otherwise the ids are
      -- the reason. This statement's fresh snapshot shows whoever we waited for.
      EXIT WHEN jsonb_typeof(expected) <> 'string' OR expected = '"noStream"' OR attempt >= 10;
      SELECT coalesce(max(ev.stream_position), 0) INTO current_version
        FROM ${s}.events AS ev WHERE ev.stream_id = sid;
      EXIT WHEN current_version = base;
      base := current_version;
    END LOOP;

    IF new_version IS NOT NULL THEN
      handed_ids := '{}';
      IF jsonb_array_length(coalesce(request->'outbox', '[]'::jsonb)) > 0 THEN
        ${handedInsert(
          s,
          `SELECT m.value->>'id' AS message_id, m.value->>'destination' AS destination,
                  m.value->>'orderingKey' AS ordering_key, m.value->>'type' AS type,
                  coalesce(m.value->'payload', 'null'::jsonb) AS payload, m.ordinality
             FROM jsonb_array_elements(request->'outbox') WITH ORDINALITY AS m`,
        )}
      END IF;
      -- publishTo: each event's envelope, positions included, as core's appendedEventsOutbox.
      IF request ? 'publishTo' AND event_count > 0 THEN
        ${handedInsert(
          s,
          `SELECT e.value->>'id' AS message_id, request->>'publishTo' AS destination,
                  sid AS ordering_key, e.value->>'type' AS type,
                  e.value || jsonb_build_object('streamPosition', stream_positions[e.ordinality],
                                                'globalPosition', global_positions[e.ordinality]) AS payload,
                  e.ordinality
             FROM jsonb_array_elements(request_events) WITH ORDINALITY AS e`,
        )}
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

    RETURN QUERY SELECT f.*, NULL::text[] FROM ${s}.append_failure(position_in_batch::int, sid, request_events) AS f;
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
  current_version bigint;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE ev.stream_id = sid)
    INTO found_count, found_in_stream
    FROM ${s}.events AS ev WHERE ev.event_id = ANY (ids);
  SELECT coalesce(max(ev.stream_position), 0) INTO current_version FROM ${s}.events AS ev WHERE ev.stream_id = sid;
  IF found_count = cardinality(ids) AND found_in_stream = found_count AND distinct_count = found_count
     AND found_count > 0 THEN
    RETURN QUERY
      SELECT failed_index, true, current_version,
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
      SELECT failed_index, false, NULL::bigint, NULL::bigint[], NULL::bigint[], current_version,
             false, false, NULL::text[];
  END IF;
END
$fn$;`;
}
