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
import type { PostgresConnection, PostgresQueryable } from './postgres-connection.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

/**
 * Saga instances of this schema, one row each with an optimistic version. A conflicting write
 * matches no row (ON CONFLICT DO NOTHING, or the version check) instead of raising a unique
 * violation, so the caller's transaction stays usable after a ConcurrencyError.
 */
export function createPostgresSagaStore(connection: PostgresConnection, schema: PostgresSchema): SagaStore {
  const t = `${schema.sql}.saga_instances`;
  const live = `status IN ('running', 'compensating')`;
  // Named, not *: these statements are prepared (see postgres-prepared.ts).
  const columns = 'saga_id, saga_name, status, version, wake_at, created_at, updated_at, body';
  const insertSql =
    prepared(`INSERT INTO ${t} (saga_id, saga_name, status, version, wake_at, created_at, updated_at, body)
           VALUES ($1, $2, $3, 1, $4, now(), now(), $5)
         ON CONFLICT (saga_id) DO NOTHING RETURNING ${columns}`);
  const getSql = prepared(`SELECT ${columns} FROM ${t} WHERE saga_id = $1`);
  const updateSql =
    prepared(`UPDATE ${t} SET status = $3, wake_at = $4, body = $5, version = version + 1, updated_at = now()
          WHERE saga_id = $1 AND version = $2 RETURNING ${columns}`);
  const dueSql = prepared(`SELECT ${columns} FROM ${t} WHERE ${live} AND wake_at IS NOT NULL AND wake_at <= $1
          ORDER BY wake_at, saga_id LIMIT $2`);

  const currentVersion = async (queryable: PostgresQueryable, sagaId: string): Promise<number> => {
    const [row] = await queryable.query<{ version: number }>(`SELECT version FROM ${t} WHERE saga_id = $1`, [
      sagaId,
    ]);
    return row === undefined ? 0 : Number(row.version);
  };

  return {
    async insert(tx, instance) {
      const [row] = await tx.query<SagaRow>(insertSql, [
        instance.sagaId,
        instance.sagaName,
        instance.status,
        sagaWakeTimeOf(instance),
        sagaBodyOf(instance),
      ]);
      if (row === undefined) {
        throw new ConcurrencyError(instance.sagaId, 'noStream', await currentVersion(tx, instance.sagaId));
      }
      return sagaInstanceFromRow(row);
    },
    async get(tx, sagaId) {
      const [row] = await (tx ?? connection).query<SagaRow>(getSql, [sagaId]);
      return row ? sagaInstanceFromRow(row) : null;
    },
    async update(tx, instance) {
      const [row] = await tx.query<SagaRow>(updateSql, [
        instance.sagaId,
        instance.version,
        instance.status,
        sagaWakeTimeOf(instance),
        sagaBodyOf(instance),
      ]);
      if (row === undefined) {
        throw new ConcurrencyError(
          instance.sagaId,
          instance.version,
          await currentVersion(tx, instance.sagaId),
        );
      }
      return sagaInstanceFromRow(row);
    },
    async due(now, limit) {
      const rows = await connection.query<SagaRow>(dueSql, [now, limit]);
      return rows.map(sagaInstanceFromRow);
    },
    async list(options = {}) {
      const rows = await connection.query<SagaRow>(
        `SELECT * FROM ${t} WHERE ($1::text IS NULL OR saga_name = $1) AND ($2::text IS NULL OR status = $2)
            AND ($4::text IS NULL OR body->>'correlationId' = $4)
          ORDER BY created_at DESC, saga_id LIMIT $3`,
        [
          options.sagaName ?? null,
          options.status ?? null,
          options.limit ?? 100,
          options.correlationId ?? null,
        ],
      );
      return rows.map(sagaInstanceFromRow);
    },
    async countByStatus(sagaName) {
      const rows = await connection.query<{ status: SagaStatus; count: number }>(
        `SELECT status, count(*) AS count FROM ${t} WHERE ($1::text IS NULL OR saga_name = $1) GROUP BY status`,
        [sagaName ?? null],
      );
      const counts = Object.fromEntries(sagaStatuses.map((status) => [status, 0])) as Record<
        SagaStatus,
        number
      >;
      for (const row of rows) {
        if (row.status in counts) counts[row.status] = Number(row.count);
      }
      return counts;
    },
  };
}
