/** The shipping address sealed under the user's key in a real SQLite store, and unreadable once forgotten. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Store, SubjectForgottenError } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  alsoForgetShippingAddresses,
  createShippingAddressSeal,
  shippingAddressView,
} from './shipping-address.ts';

const street = 'Rue des Oubliés 17, 3e étage, porte gauche';
const address = { country: 'FR', street, city: 'Lyon' };
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipping-address-'));
  store = await createSqliteStore({ filename: join(dir, 'orders.db') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the shipping address sealed under the user key', () => {
  it('keeps the country in clear, seals the rest, and opens it while the user is known', async () => {
    const seal = createShippingAddressSeal(store);
    const inTransit = await seal.seal(null, 'user-1', address);
    expect(inTransit).toEqual({ country: 'FR', sealed: { $pii: 'user-1', v: expect.any(String) } });
    expect(JSON.stringify(inTransit)).not.toContain('Oubliés');
    expect(await seal.open(null, inTransit)).toEqual(address);
  });

  it('needs no key for an address of a country alone', async () => {
    const seal = createShippingAddressSeal(store);
    expect(await seal.seal(null, 'user-2', { country: 'XX' })).toEqual({ country: 'XX' });
    expect(await seal.seal(null, 'user-2', {})).toEqual({});
    expect(await store.keys.getKeys(null, ['user-2'])).toEqual(new Map());
  });

  it('once forgotten: every sealed copy is unreadable, no new address is sealed, the key is off the disk', async () => {
    const seal = createShippingAddressSeal(store);
    const first = await seal.seal(null, 'user-3', address);
    const second = await seal.seal(null, 'user-3', { ...address, city: 'Paris' });
    const key = (await store.keys.getKeys(null, ['user-3'])).get('user-3')!;
    await store.transaction((tx) => seal.forget(tx, 'user-3'));
    await store.transaction((tx) => seal.forget(tx, 'user-3')); // a redelivery changes nothing
    expect(await seal.open(null, first)).toBeNull();
    expect(await seal.open(null, second)).toBeNull();
    await expect(seal.seal(null, 'user-3', address)).rejects.toBeInstanceOf(SubjectForgottenError);
    await store.purgeDeletedData?.();
    for (const file of ['orders.db', 'orders.db-wal']) {
      const bytes = (() => {
        try {
          return readFileSync(join(dir, file));
        } catch {
          return Buffer.alloc(0);
        }
      })();
      expect(bytes.includes(key), `${file} holds the key`).toBe(false);
    }
  });
});

describe('forgetting the user in the consumer that hears of it', () => {
  it('runs the handler it had, then destroys the key in the same transaction', async () => {
    const seal = createShippingAddressSeal(store);
    const inTransit = await seal.seal(null, 'user-4', address);
    expect(await shippingAddressView(seal, inTransit)).toEqual({
      shipToCountry: 'FR',
      shippingAddress: address,
    });
    const seen: string[] = [];
    const handlers = alsoForgetShippingAddresses(seal, {
      'users.UserForgotten': async (event: { data: { userId: string } }) => {
        seen.push(event.data.userId);
      },
      'other.Event': async () => {},
    });
    expect(Object.keys(handlers)).toEqual(['users.UserForgotten', 'other.Event']);
    await store.transaction(async (tx) => {
      await handlers['users.UserForgotten']({ data: { userId: 'user-4' } }, { tx });
    });
    expect(seen).toEqual(['user-4']);
    expect(await shippingAddressView(seal, inTransit)).toEqual({
      shipToCountry: 'FR',
      shippingAddress: '[forgotten]',
    });
    expect(await shippingAddressView(seal, { country: 'XX' })).toEqual({
      shipToCountry: 'XX',
      shippingAddress: { country: 'XX' },
    });
    expect(await shippingAddressView(seal, undefined)).toEqual({});
  });

  it('destroys nothing when the transaction rolls back', async () => {
    const seal = createShippingAddressSeal(store);
    const inTransit = await seal.seal(null, 'user-5', address);
    const handlers = alsoForgetShippingAddresses(seal, {});
    await expect(
      store.transaction(async (tx) => {
        await handlers['users.UserForgotten']({ data: { userId: 'user-5' } }, { tx });
        throw new Error('the handler failed after forgetting');
      }),
    ).rejects.toThrow('the handler failed');
    expect(await seal.open(null, inTransit)).toEqual(address);
  });
});
