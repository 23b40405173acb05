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
