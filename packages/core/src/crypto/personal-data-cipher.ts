import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SubjectForgottenError } from '../errors/index.ts';
import type { EventRegistry } from '../message/index.ts';
import type { KeyStore, Transaction } from '../store/index.ts';

/** What a personal field reads as once its subject's key is destroyed, everywhere and forever. */
export const redactedMarker = '[forgotten]';

/** An encrypted field value as stored: subject id and base64(iv | tag | ciphertext). */
interface SealedValue {
  $pii: string;
  v: string;
}

/** Whether a field holds an encrypted personal value (as events travel: only the owner can open it). */
export function isSealed(value: unknown): value is SealedValue {
  return typeof value === 'object' && value !== null && typeof (value as SealedValue).$pii === 'string';
}

/** AES-256-GCM with the subject and field bound as associated data, so values cannot be swapped. */
export function seal(key: Buffer, subjectId: string, field: string, value: unknown): SealedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${subjectId}\u0000${field}`));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { $pii: subjectId, v: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64') };
}

export function unseal(key: Buffer, field: string, sealed: SealedValue): unknown {
  const bytes = Buffer.from(sealed.v, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(`${sealed.$pii}\u0000${field}`));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8'));
}

/**
 * Encrypts the personal fields of events before they are stored and decrypts them on read.
 * A subject whose key is destroyed reads as `redactedMarker`; plaintext never reaches the store.
 */
export interface PersonalDataCipher {
  encrypt(tx: Transaction | null, type: string, data: unknown): Promise<unknown>;
  decryptAll<T extends { type: string; data: unknown }>(tx: Transaction | null, events: T[]): Promise<T[]>;
  /** Encrypts a whole document (e.g. a snapshot) under a subject's key. */
  sealDocument(tx: Transaction | null, subjectId: string, document: unknown): Promise<unknown>;
  /** The document, or null when its subject was forgotten. */
  openDocument(tx: Transaction | null, sealed: unknown): Promise<unknown | null>;
}

export function createPersonalDataCipher(registry: EventRegistry, keys: KeyStore): PersonalDataCipher {
  async function keyFor(tx: Transaction | null, subjectId: string): Promise<Buffer> {
    const key = await keys.getOrCreateKey(tx, subjectId, randomBytes(32));
    if (!key) throw new SubjectForgottenError(subjectId);
    return key;
  }

  async function loadKeys(tx: Transaction | null, values: unknown[]): Promise<Map<string, Buffer | null>> {
    const subjects = new Set<string>();
    for (const value of values) if (isSealed(value)) subjects.add(value.$pii);
    return subjects.size === 0 ? new Map() : keys.getKeys(tx, [...subjects]);
  }

  return {
    async encrypt(tx, type, data) {
      const personal = registry.get(type)?.personal;
      if (!personal || typeof data !== 'object' || data === null) return data;
      const subjectId = personal.subject(data as never);
      const key = await keyFor(tx, subjectId);
      const sealed: Record<string, unknown> = { ...(data as Record<string, unknown>) };
      for (const field of personal.fields) {
        if (sealed[field] !== undefined) sealed[field] = seal(key, subjectId, field, sealed[field]);
      }
      return sealed;
    },

    async decryptAll(tx, events) {
      const sealedValues = events.flatMap((event) =>
        typeof event.data === 'object' && event.data !== null ? Object.values(event.data) : [],
      );
      const keyBySubject = await loadKeys(tx, sealedValues);
      if (keyBySubject.size === 0 && !sealedValues.some(isSealed)) return events;
      return events.map((event) => {
        if (typeof event.data !== 'object' || event.data === null) return event;
        const entries = Object.entries(event.data as Record<string, unknown>);
        if (!entries.some(([, value]) => isSealed(value))) return event;
        const data = Object.fromEntries(
          entries.map(([field, value]) => {
            if (!isSealed(value)) return [field, value];
            const key = keyBySubject.get(value.$pii);
            return [field, key ? unseal(key, field, value) : redactedMarker];
          }),
        );
        return { ...event, data };
      });
    },

    async sealDocument(tx, subjectId, document) {
      return seal(await keyFor(tx, subjectId), subjectId, '$document', document);
    },

    async openDocument(tx, sealed) {
      if (!isSealed(sealed)) return sealed;
      const key = (await keys.getKeys(tx, [sealed.$pii])).get(sealed.$pii);
      return key ? unseal(key, '$document', sealed) : null;
    },
  };
}
