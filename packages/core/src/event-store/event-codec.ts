import type { PersonalDataCipher } from '../crypto/index.ts';
import type { EventRegistry, Message } from '../message/index.ts';
import type { StoredEvent, Transaction } from '../store/index.ts';

/** Stored rows to messages of the current schema: personal fields decrypted, then upcast. */
export async function decodeEvents(
  rows: StoredEvent[],
  context: { registry: EventRegistry; cipher: PersonalDataCipher; tx?: Transaction | null },
): Promise<Message[]> {
  const decrypted = await context.cipher.decryptAll(context.tx ?? null, rows);
  return decrypted.map((row) => {
    const { version, data } = context.registry.upcast(row.type, row.schemaVersion, row.data);
    return version === row.schemaVersion && data === row.data
      ? row
      : { ...row, schemaVersion: version, data };
  });
}
