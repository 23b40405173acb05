import {
  ConcurrencyError,
  type SagaRow,
  type SagaStatus,
  type SagaStore,
  sagaBodyOf,
  sagaInstanceFromRow,
  sagaStatuses,
  sagaWakeTimeOf,
} from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';
import type { SqliteSession } from './sqlite-session.ts';

function currentVersion(session: SqliteSession, table: string, sagaId: string): number {
  return (
    session.get<{ version: number }>(`SELECT version FROM ${table} WHERE saga_id = ?`, [sagaId])?.version ?? 0
  );
}

/**
 * Saga instances of this database, one row each with an optimistic version; times are epoch
 * milliseconds (compared by `due`), handed out as ISO text. Writes join the caller's transaction.
 */
export function createSqliteSagaStore({ connection, tables }: SqliteStoreContext): SagaStore {
  const t = tables.sagaInstances;
  const live = `status IN ('running', 'compensating')`;
  return {
    async insert(tx, instance) {
      const { session } = connection.join(tx);
      const now = Date.now();
      const row = session.get<SagaRow>(
        `INSERT INTO ${t} (saga_id, saga_name, status, version, wake_at, created_at, updated_at, body)
           VALUES (?, ?, ?, 1, ?, ?, ?, ?)
         ON CONFLICT (saga_id) DO NOTHING RETURNING *`,
        [
          instance.sagaId,
          instance.sagaName,
          instance.status,
          sagaWakeTimeOf(instance)?.getTime() ?? null,
          now,
          now,
          sagaBodyOf(instance),
        ],
      );
      if (row === undefined) {
        throw new ConcurrencyError(instance.sagaId, 'noStream', currentVersion(session, t, instance.sagaId));
      }
      return sagaInstanceFromRow(row);
    },
    get: (tx, sagaId) =>
      connection.read(tx, (session) => {
        const row = session.get<SagaRow>(`SELECT * FROM ${t} WHERE saga_id = ?`, [sagaId]);
        return row ? sagaInstanceFromRow(row) : null;
      }),
    async update(tx, instance) {
      const { session } = connection.join(tx);
      const row = session.get<SagaRow>(
        `UPDATE ${t} SET status = ?, wake_at = ?, body = ?, version = version + 1, updated_at = ?
          WHERE saga_id = ? AND version = ? RETURNING *`,
        [
          instance.status,
          sagaWakeTimeOf(instance)?.getTime() ?? null,
          sagaBodyOf(instance),
          Date.now(),
          instance.sagaId,
          instance.version,
        ],
      );
      if (row === undefined) {
        throw new ConcurrencyError(
          instance.sagaId,
          instance.version,
          currentVersion(session, t, instance.sagaId),
        );
      }
      return sagaInstanceFromRow(row);
    },
    due: (now, limit) =>
      connection.read(null, (session) =>
        session
          .all<SagaRow>(
            `SELECT * FROM ${t} WHERE ${live} AND wake_at IS NOT NULL AND wake_at <= ?
              ORDER BY wake_at, saga_id LIMIT ?`,
            [now.getTime(), limit],
          )
          .map(sagaInstanceFromRow),
      ),
    list: (options = {}) =>
      connection.read(null, (session) =>
        session
          .all<SagaRow>(
            `SELECT * FROM ${t} WHERE (?1 IS NULL OR saga_name = ?1) AND (?2 IS NULL OR status = ?2)
                AND (?4 IS NULL OR json_extract(body, '$.correlationId') = ?4)
              ORDER BY created_at DESC, saga_id LIMIT ?3`,
            {
              1: options.sagaName ?? null,
              2: options.status ?? null,
              3: options.limit ?? 100,
              4: options.correlationId ?? null,
            },
          )
          .map(sagaInstanceFromRow),
      ),
    countByStatus: (sagaName) =>
      connection.read(null, (session) => {
        const rows = session.all<{ status: SagaStatus; count: number }>(
          `SELECT status, count(*) AS count FROM ${t} WHERE (?1 IS NULL OR saga_name = ?1) GROUP BY status`,
          { 1: sagaName ?? null },
        );
        const counts = Object.fromEntries(sagaStatuses.map((status) => [status, 0])) as Record<
          SagaStatus,
          number
        >;
        for (const row of rows) {
          if (row.status in counts) counts[row.status] = row.count;
        }
        return counts;
      }),
  };
}
