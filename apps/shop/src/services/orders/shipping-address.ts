/**
 * The shipping address is personal data: the orders service seals it under the user's key in its
 * own key store (core's crypto-shredding, subject = the user id) before it is written anywhere,
 * and destroys that key when `users.UserForgotten` arrives. The country stays in clear: shipping
 * refuses some countries, sales are counted by country, and a country alone names no one.
 */
import {
  createEventRegistry,
  createPersonalDataCipher,
  isSealed,
  redactedMarker,
  type Store,
  type Transaction,
} from '@causeway/core';
import { log } from '../../platform/log.ts';
import type { ShippingAddressInTransit } from '../shipping/shipping-domain.ts';

/** The address as the client sent it (SHOP-API: `{ country?, ...free text }`). */
export type ShippingAddress = { country?: string } & Record<string, unknown>;

export interface ShippingAddressSeal {
  /**
   * The country, and the whole address sealed under the user's key (made on first use). An
   * address of a country alone needs no key. Throws SubjectForgottenError for a forgotten user.
   */
  seal(tx: Transaction | null, userId: string, address: ShippingAddress): Promise<ShippingAddressInTransit>;
  /** The address as given, or null once the user is forgotten (or none was sealed). */
  open(
    tx: Transaction | null,
    inTransit: ShippingAddressInTransit | undefined,
  ): Promise<ShippingAddress | null>;
  /**
   * Destroys the user's key in the caller's transaction, so every sealed copy of the user's
   * addresses is unreadable from then on; idempotent (a redelivered UserForgotten changes nothing).
   */
  forget(tx: Transaction, userId: string): Promise<void>;
}

export function createShippingAddressSeal(store: Store): ShippingAddressSeal {
  // Whole documents only: no event type of its own needs field-level sealing here.
  const cipher = createPersonalDataCipher(createEventRegistry([]), store.keys);
  return {
    async seal(tx, userId, address) {
      const country = address.country === undefined ? {} : { country: address.country };
      if (Object.keys(address).every((field) => field === 'country')) return country;
      const sealed = await cipher.sealDocument(tx, userId, address);
      if (!isSealed(sealed)) throw new Error('the cipher returned an unsealed address');
      return { ...country, sealed };
    },
    async open(tx, inTransit) {
      if (!inTransit?.sealed) return null;
      return (await cipher.openDocument(tx, inTransit.sealed)) as ShippingAddress | null;
    },
    async forget(tx, userId) {
      await store.keys.destroyKey(tx, userId);
      // The key's bytes may linger in freed pages or the WAL until purged (SQLite).
      tx.onCommit(() => {
        store.purgeDeletedData?.().catch((error) => log.warn(`purge after forgetting: ${error}`));
      });
    },
  };
}

/** How the orders service shows where an order ships: the country, and the address or "[forgotten]". */
export async function shippingAddressView(
  seal: ShippingAddressSeal,
  inTransit: ShippingAddressInTransit | undefined,
): Promise<{ shipToCountry?: string; shippingAddress?: ShippingAddress | typeof redactedMarker }> {
  if (!inTransit) return {};
  const country = inTransit.country === undefined ? {} : { shipToCountry: inTransit.country };
  if (!inTransit.sealed) return { ...country, shippingAddress: { ...inTransit } };
  return { ...country, shippingAddress: (await seal.open(null, inTransit)) ?? redactedMarker };
}

/** A consumer's handlers that may handle `users.UserForgotten` (method syntax: any such handler fits). */
interface MayForgetUsers {
  'users.UserForgotten'?(
    event: { data: { userId: string } },
    context: { tx: Transaction },
  ): void | Promise<void>;
}

/**
 * The consumer's handlers, with `users.UserForgotten` also destroying the user's address key, in
 * the same transaction as the handler's other effects and its inbox receipt.
 */
export function alsoForgetShippingAddresses<Handlers extends MayForgetUsers>(
  seal: ShippingAddressSeal,
  handlers: Handlers,
): Omit<Handlers, 'users.UserForgotten'> & Required<MayForgetUsers> {
  const forgetUser = handlers['users.UserForgotten']?.bind(handlers);
  const forgetUserAndAddresses: NonNullable<MayForgetUsers['users.UserForgotten']> = async (
    event,
    context,
  ) => {
    await forgetUser?.(event, context);
    await seal.forget(context.tx, event.data.userId);
  };
  return { ...handlers, 'users.UserForgotten': forgetUserAndAddresses };
}
