/**
 * `meta.generations`: each generation of the analytics layers, its ingest mode (never switched:
 * positions are LSNs in one mode and log positions in the other) and its state. One is `live`;
 * a replay builds the next as `building` and swaps it in; the one it replaced is `retired`.
 */
import type { Lakehouse } from '@causeway/lakehouse';
import type { IngestMode } from './ingest-mode.ts';

export type GenerationState = 'building' | 'live' | 'retired';

export interface GenerationRecord {
  generation: number;
  ingest: IngestMode;
  state: GenerationState;
}

export async function readGenerations(lakehouse: Lakehouse): Promise<GenerationRecord[]> {
  await lakehouse.transaction(async (session) => {
    await session.run('CREATE SCHEMA IF NOT EXISTS meta');
    await session.run(`CREATE TABLE IF NOT EXISTS meta.generations (
      generation INTEGER PRIMARY KEY, ingest VARCHAR NOT NULL, state VARCHAR NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(), swapped_at TIMESTAMPTZ)`);
  });
  return lakehouse.all<GenerationRecord>(
    'SELECT generation, ingest, state FROM meta.generations ORDER BY generation',
  );
}

export async function addGeneration(lakehouse: Lakehouse, record: GenerationRecord): Promise<void> {
  await lakehouse.transaction((session) =>
    session.run('INSERT INTO meta.generations (generation, ingest, state) VALUES ($1, $2, $3)', [
      record.generation,
      record.ingest,
      record.state,
    ]),
  );
}

export async function setGenerationState(
  lakehouse: Lakehouse,
  generation: number,
  state: GenerationState,
): Promise<void> {
  await lakehouse.transaction((session) =>
    session.run(
      `UPDATE meta.generations SET state = $2, swapped_at = CASE WHEN $2 = 'live' THEN now() ELSE swapped_at END
        WHERE generation = $1`,
      [generation, state],
    ),
  );
}

/** The replacement becomes live and the replaced one retired, in one transaction: readers see one or the other. */
export async function swapGenerations(lakehouse: Lakehouse, from: number, to: number): Promise<void> {
  await lakehouse.transaction(async (session) => {
    await session.run(`UPDATE meta.generations SET state = 'retired' WHERE generation = $1`, [from]);
    await session.run(
      `UPDATE meta.generations SET state = 'live', swapped_at = now() WHERE generation = $1`,
      [to],
    );
  });
}

/** Drops a generation's layer schemas (bronze, silver, gold and any other the project uses). */
export async function dropGenerationSchemas(lakehouse: Lakehouse, generation: number): Promise<void> {
  const schemas = await lakehouse.all<{ schema_name: string }>(
    'SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, $1)',
    [`g${generation}_`],
  );
  await lakehouse.exclusive(async (session) => {
    for (const { schema_name: schema } of schemas) await session.run(`DROP SCHEMA "${schema}" CASCADE`);
  });
}
