import type Database from 'better-sqlite3';
import { retryWhileBusy } from './embedded-busy.ts';

/** What one subscriber holds of one (group, destination) after balancing. */
export interface BalanceResult {
  readonly held: readonly number[];
  /** This subscriber's fair share; fewer held means others still hold the rest (for now). */
  readonly share: number;
  /** Held partitions above the share that are busy: give each back once its delivery settles. */
  readonly surplus: readonly number[];
  /** Live subscribers of the group for this destination, this one included. */
  readonly members: number;
}

interface BalanceRequest {
  group: string;
  destination: string;
  owner: string;
  now: number;
  leaseMs: number;
  /** Partitions with a delivery in flight here: never released, so a handler keeps its lease. */
  busy: ReadonlySet<number>;
}

/**
 * Partition leases: each live subscriber of a group holds about `partitions / members` of a
 * destination's partitions, renews them (and its membership) on every balance, takes free or
 * expired ones up to its share, and gives back idle ones above it. A crashed subscriber stops
 * renewing, so its leases and membership expire after `leaseMs` and the others take over.
 */
export function createEmbeddedLeases(db: Database.Database, partitions: number, busyTimeoutMs: number) {
  const createCursor = db.prepare(
    'INSERT OR IGNORE INTO transport_cursors (consumer_group, destination, partition) VALUES (?, ?, ?)',
  );
  const upsertMember = db.prepare(
    `INSERT INTO transport_members (consumer_group, destination, subscriber, alive_until) VALUES (?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET alive_until = excluded.alive_until`,
  );
  const forgetDeadMembers = db.prepare(
    'DELETE FROM transport_members WHERE consumer_group = ? AND destination = ? AND alive_until <= ?',
  );
  const liveMembers = db
    .prepare<[string, string, number], number>(
      'SELECT count(*) FROM transport_members WHERE consumer_group = ? AND destination = ? AND alive_until > ?',
    )
    .pluck();
  const renew = db.prepare(
    `UPDATE transport_cursors SET lease_until = @until
      WHERE consumer_group = @group AND destination = @destination AND lease_owner = @owner AND lease_until > @now`,
  );
  const leases = db.prepare<
    [string, string],
    { partition: number; lease_owner: string | null; lease_until: number }
  >(
    'SELECT partition, lease_owner, lease_until FROM transport_cursors WHERE consumer_group = ? AND destination = ?',
  );
  const setLease = db.prepare(
    `UPDATE transport_cursors SET lease_owner = ?, lease_until = ?
      WHERE consumer_group = ? AND destination = ? AND partition = ?`,
  );
  const releaseAll = db.prepare(
    'UPDATE transport_cursors SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?',
  );
  const releaseOne = db.prepare(
    `UPDATE transport_cursors SET lease_owner = NULL, lease_until = 0
      WHERE consumer_group = ? AND destination = ? AND partition = ? AND lease_owner = ?`,
  );
  const leave = db.prepare('DELETE FROM transport_members WHERE subscriber = ?');

  function balanceOne(request: BalanceRequest): BalanceResult {
    const { group, destination, owner, now, leaseMs } = request;
    const until = now + leaseMs;
    for (let partition = 0; partition < partitions; partition++)
      createCursor.run(group, destination, partition);
    upsertMember.run(group, destination, owner, until);
    forgetDeadMembers.run(group, destination, now);
    renew.run({ group, destination, owner, until, now });
    const members = Math.max(1, liveMembers.get(group, destination, now) ?? 1);
    const share = Math.ceil(partitions / members);
    const rows = leases.all(group, destination);
    const held = rows
      .filter((row) => row.lease_owner === owner && row.lease_until > now)
      .map((row) => row.partition);
    const free = rows.filter((row) => row.lease_owner === null || row.lease_until <= now);
    for (const row of free.slice(0, Math.max(0, share - held.length))) {
      setLease.run(owner, until, group, destination, row.partition);
      held.push(row.partition);
    }
    // Idle partitions go first; busy ones only after their delivery settles (see `surplus`).
    const byIdleFirst = [...held].sort((a, b) => Number(request.busy.has(a)) - Number(request.busy.has(b)));
    const excess = byIdleFirst.slice(0, Math.max(0, held.length - share));
    for (const partition of excess.filter((candidate) => !request.busy.has(candidate))) {
      setLease.run(null, 0, group, destination, partition);
      held.splice(held.indexOf(partition), 1);
    }
    return { held, share, members, surplus: excess.filter((partition) => request.busy.has(partition)) };
  }

  return {
    /** Joins or renews membership, renews leases, and takes or gives back partitions to a fair share. */
    balance: retryWhileBusy(db.transaction(balanceOne).immediate, busyTimeoutMs),

    /** Live subscribers of a group for a destination: a change means the shares must be redone. */
    liveMembers: retryWhileBusy(
      (group: string, destination: string, now: number): number =>
        liveMembers.get(group, destination, now) ?? 0,
      busyTimeoutMs,
    ),

    /** Gives back one partition, if `owner` still holds it. */
    releasePartition: retryWhileBusy(
      (key: { group: string; destination: string; partition: number }, owner: string): void => {
        releaseOne.run(key.group, key.destination, key.partition, owner);
      },
      busyTimeoutMs,
    ),

    /** Gives back every lease of `owner` and leaves the group: others take over at once. */
    release: retryWhileBusy(
      db.transaction((owner: string) => {
        releaseAll.run(owner);
        leave.run(owner);
      }).immediate,
      busyTimeoutMs,
    ),
  };
}

export type EmbeddedLeases = ReturnType<typeof createEmbeddedLeases>;
