import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError, UnknownEventTypeError, UpcastError, ValidationError } from '../errors/index.ts';
import { createEventRegistry, defineEvent } from './event-registry.ts';

const renamed = defineEvent({
  type: 'accounts.Opened',
  version: 3,
  schema: z.object({
    holder: z.string().min(1),
    currency: z.string().length(3),
    overdraftCents: z.number().int(),
  }),
  upcasters: {
    1: (data) => ({ holder: data.owner, currency: data.currency ?? 'USD' }),
    2: (data) => ({ ...data, overdraftCents: 0 }),
  },
});

describe('event registry', () => {
  const registry = createEventRegistry([renamed]);

  it('upcasts v1 through v2 to v3 on read without touching the stored data', () => {
    const stored = { owner: 'Ada' };
    expect(registry.upcast('accounts.Opened', 1, stored)).toEqual({
      version: 3,
      data: { holder: 'Ada', currency: 'USD', overdraftCents: 0 },
    });
    expect(stored).toEqual({ owner: 'Ada' });
    expect(registry.upcast('accounts.Opened', 2, { holder: 'B', currency: 'EUR' }).data).toEqual({
      holder: 'B',
      currency: 'EUR',
      overdraftCents: 0,
    });
  });

  it('refuses data from a newer version than the code knows', () => {
    expect(() => registry.upcast('accounts.Opened', 4, {})).toThrow(UpcastError);
  });

  it('wraps a throwing upcaster in a typed error', () => {
    const broken = createEventRegistry([
      defineEvent({
        type: 'x.Y',
        version: 2,
        schema: z.object({}),
        upcasters: {
          1: () => {
            throw new Error('boom');
          },
        },
      }),
    ]);
    expect(() => broken.upcast('x.Y', 1, {})).toThrow(/Cannot upcast x.Y v1: boom/);
  });

  it('validates payloads with per-field issues', () => {
    try {
      registry.validate('accounts.Opened', { holder: '', currency: 'EURO', overdraftCents: 1.5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual([
        'currency',
        'holder',
        'overdraftCents',
      ]);
    }
  });

  it('names unknown types', () => {
    expect(() => registry.validate('accounts.Nope', {})).toThrow(UnknownEventTypeError);
  });

  it('checks the upcaster chain up front', () => {
    expect(() =>
      defineEvent({ type: 'a.B', version: 3, schema: z.object({}), upcasters: { 1: (d) => d } }),
    ).toThrow(ConfigurationError);
    expect(() => createEventRegistry([renamed, renamed])).toThrow(/registered twice/);
  });
});

describe('validating a message as it travels', () => {
  const registered = defineEvent({
    type: 'users.Registered',
    schema: z.object({ userId: z.string(), email: z.string().email(), plan: z.enum(['free', 'pro']) }),
    personal: { subject: (data) => data.userId, fields: ['email'] },
  });
  const registry = createEventRegistry([registered]);
  const sealed = { $pii: 'u-1', v: 'c2VhbGVk' };

  it('lets a sealed personal field pass as it is, and checks every other field', () => {
    expect(
      registry.validateReceived('users.Registered', { userId: 'u-1', email: sealed, plan: 'pro' }),
    ).toEqual({
      version: 1,
      data: { userId: 'u-1', email: sealed, plan: 'pro' },
    });
    expect(() =>
      registry.validateReceived('users.Registered', { userId: 'u-1', email: sealed, plan: 'gold' }),
    ).toThrow(/Invalid users.Registered: plan/);
  });

  it('checks a personal field that arrives in plaintext like any other', () => {
    expect(() =>
      registry.validateReceived('users.Registered', { userId: 'u-1', email: 'not an email', plan: 'pro' }),
    ).toThrow(ValidationError);
    // validate (the write path) never accepts a sealed value: only the store seals.
    expect(() =>
      registry.validate('users.Registered', { userId: 'u-1', email: sealed, plan: 'pro' }),
    ).toThrow(ValidationError);
  });
});
