import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seal, unseal } from './personal-data-cipher.ts';

describe('personal data sealing', () => {
  const key = randomBytes(32);

  it('round-trips any JSON value and never contains the plaintext', () => {
    const sealed = seal(key, 'user-1', 'email', 'ada@example.com');
    expect(JSON.stringify(sealed)).not.toContain('ada@example.com');
    expect(unseal(key, 'email', sealed)).toBe('ada@example.com');
    expect(unseal(key, 'address', seal(key, 'user-1', 'address', { city: 'Paris' }))).toEqual({
      city: 'Paris',
    });
  });

  it('binds subject and field: a value moved to another field fails authentication', () => {
    const sealed = seal(key, 'user-1', 'email', 'ada@example.com');
    expect(() => unseal(key, 'name', sealed)).toThrow();
    expect(() => unseal(key, 'email', { ...sealed, $pii: 'user-2' })).toThrow();
    expect(() => unseal(randomBytes(32), 'email', sealed)).toThrow();
  });
});
