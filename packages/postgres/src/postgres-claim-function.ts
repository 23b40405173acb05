import type { PostgresSchema } from './postgres-schema.ts';

/**
 * `claim_outbox(owner, max, lease_ms)`: the relay's claim in one round trip (it took four: BEGIN,
 * the lock, the UPDATE, COMMIT). A transaction-scoped advisory lock per schema serializes claims,
 * so two relays never both decide that an ordering key is free. The UPDATE is a separate statement
 * of a VOLATILE function, so under READ COMMITTED it takes its snapshot after the lock was granted
 * and sees every lease the previous holder committed.
 *
 * Eligible: unpublished, not under a live lease, and no earlier unpublished message of the same
 * key live-leased by another owner. Every claim counts an attempt (a takeover is attempts + 1).
 * "Live" is judged against one instant, read once: clock_timestamp() per row let a lease expire
 * half-way through the scan, so a key's earlier rows counted as leased while its later rows no
 * longer saw them, and the later ones were published first (the NATS kill test caught it).
 * The claim commits without waiting for the WAL flush: a lost claim only makes rows claimable
 * again, which at-least-once delivery already allows.
 */
export function claimFunctionSql(schema: PostgresSchema): string {
  const s = schema.sql;
  const lockKey = `causeway.outbox-claim.${s}`.replaceAll("'", "''");
  return `
CREATE OR REPLACE FUNCTION ${s}.claim_outbox(claim_owner text, max_rows int, lease_ms int)
RETURNS TABLE (
  sequence bigint, message_id text, destination text, ordering_key text, type text, payload jsonb,
  attempts int, created_at timestamptz
)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  claimed_at timestamptz;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM pg_advisory_xact_lock(hashtextextended('${lockKey}', 0));
  claimed_at := clock_timestamp(); -- after the lock: the leases its previous holder granted count
  RETURN QUERY
    UPDATE ${s}.outbox AS o
       SET lease_owner = claim_owner,
           lease_until = claimed_at + lease_ms * interval '1 millisecond',
           attempts = o.attempts + 1
      FROM (
        SELECT c.sequence FROM ${s}.outbox AS c
         WHERE c.published_at IS NULL
           AND (c.lease_until IS NULL OR c.lease_until <= claimed_at)
           AND NOT EXISTS (
             SELECT 1 FROM ${s}.outbox AS b
              WHERE b.published_at IS NULL AND b.ordering_key = c.ordering_key
                AND b.sequence < c.sequence AND b.lease_owner <> claim_owner
                AND b.lease_until > claimed_at)
         ORDER BY c.sequence LIMIT max_rows
      ) AS picked
     WHERE o.sequence = picked.sequence
    RETURNING o.sequence, o.message_id, o.destination, o.ordering_key, o.type, o.payload, o.attempts,
              o.created_at;
END
$fn$;`;
}
