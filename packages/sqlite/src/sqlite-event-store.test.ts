import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventStoreConformance } from '@causeway/testing/event-store-conformance';
import { createSqliteStore } from './index.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-sqlite-es-'));
const files = new WeakMap<object, string>();
let counter = 0;

describeEventStoreConformance(
  'sqlite',
  async () => {
    const filename = join(directory, `store-${counter++}.db`);
    const store = await createSqliteStore({ filename });
    files.set(store, filename);
    return store;
  },
  {
    // Every byte on disk: the database file and its WAL, after a checkpoint folds the WAL in.
    readRawBytes: async (store) => {
      const filename = files.get(store)!;
      const read = (path: string) => {
        try {
          return readFileSync(path).toString('latin1');
        } catch {
          return '';
        }
      };
      return read(filename) + read(`${filename}-wal`);
    },
  },
);
