import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConcurrencyError,
  type ConsumerBatchSplit,
  type ConsumerRetry,
  createConsumer,
  createEventStore,
  createOutboxRelay,
  type Message,
  type MessageHandler,
  type Store,
  type Transport,
} from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { registry, uniqueId } from '../event-store-conformance/fixtures.ts';

/** Polls `check` until it holds or `timeoutMs` passes (then fails with `what`). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Service A's outbox → relay → transport → service B's consumer, on real stores and a real
 * transport: every event handled once in effect, in order per stream, bad input dead-lettered.
 */
export function describeMessagingConformance(name: string, openTransport: () => Promise<Transport>) {
  describe(`messaging through ${name}`, () => {
    const closers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    });

    async function setup(
      handlers: (seen: Message[]) => Record<string, MessageHandler>,
      maxAttempts = 3,
      onRetry?: (failure: ConsumerRetry) => void,
      onBatchSplit?: (failure: ConsumerBatchSplit) => void,
    ) {
      const directory = mkdtempSync(join(tmpdir(), 'causeway-messaging-'));
      const storeA: Store = await createSqliteStore({ filename: join(directory, 'a.db') });
      const storeB: Store = await createSqliteStore({ filename: join(directory, 'b.db') });
      const transport = await openTransport();
      const destination = `a_events_${uniqueId('d').replace(/\W/g, '_')}`;
      const seen: Message[] = [];
      const relay = createOutboxRelay({ store: storeA, transport, idlePollMs: 50 });
      const consumer = createConsumer({
        name: `b_${uniqueId('g').replace(/\W/g, '_')}`,
        store: storeB,
        transport,
        destinations: [destination],
        handlers: handlers(seen),
        registry,
        maxAttempts,
        backoff: { initialMs: 20, maxMs: 100 },
        ackTimeoutMs: 2000,
        ...(onRetry ? { onRetry } : {}),
        ...(onBatchSplit ? { onBatchSplit } : {}),
      });
      closers.push(
        () => storeA.close(),
        () => storeB.close(),
        () => transport.close(),
        () => relay.stop(),
        () => consumer.stop(),
      );
      return {
        eventStore: createEventStore({ store: storeA, registry }),
        storeB,
        relay,
        consumer,
        destination,
        seen,
        transport,
      };
    }

    const recordAll = (seen: Message[]): Record<string, MessageHandler> => ({
      'test.Deposited': async (message) => {
        seen.push(message);
      },
    });

    it('delivers every event once in effect, each stream in order, despite republished batches', async () => {
      const { eventStore, relay, consumer, destination, seen, transport } = await setup(recordAll);
      await consumer.start();
      const streams = Array.from({ length: 8 }, () => uniqueId('acct'));
      const appended: Message[] = [];
      for (let round = 1; round <= 10; round++) {
        for (const stream of streams) {
          const outcome = await eventStore.appendToStream(
            stream,
            [{ type: 'test.Deposited', data: { amountCents: round } }],
            { publishTo: destination },
          );
          appended.push(...outcome.events);
        }
      }
      // A relay that crashed after publishing and before marking would publish again: duplicates.
      const some = appended
        .slice(0, 10)
        .map((m) => ({ id: m.id, destination, orderingKey: m.streamId, type: m.type, payload: m }));
      await transport.publish(some);
      relay.start();
      await eventually(async () => seen.length >= appended.length, `${appended.length} handled events`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen.length).toBe(appended.length);
      for (const stream of streams) {
        expect(seen.filter((m) => m.streamId === stream).map((m) => m.streamPosition)).toEqual(
          Array.from({ length: 10 }, (_, i) => i + 1),
        );
      }
      expect((await relay.status()).backlog).toBe(0);
    });

    it('never lets a key’s later message overtake an earlier one the relay left leased', async () => {
      const { eventStore, consumer, destination, seen, transport } = await setup(recordAll);
      await consumer.start();
      const stream = uniqueId('acct');
      const deposit = (amountCents: number) =>
        eventStore.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents } }], {
          publishTo: destination,
        });
      await deposit(1);
      // An earlier run of this relay claimed the first message and could not give it back.
      const owner = uniqueId('relay');
      expect(await eventStore.store.outbox.claimBatch({ owner, limit: 10, leaseMs: 1_500 })).toHaveLength(1);
      await deposit(2);
      const relay = createOutboxRelay({ store: eventStore.store, transport, owner, idlePollMs: 50 });
      closers.push(() => relay.stop());
      relay.start();
      await eventually(async () => seen.length >= 2, 'both deposits handled');
      expect(seen.map((message) => message.streamPosition)).toEqual([1, 2]);
    });

    it('retries a transient failure with backoff, saying so each time, then handles it once', async () => {
      let failures = 0;
      const retries: ConsumerRetry[] = [];
      const { eventStore, relay, consumer, destination, seen } = await setup(
        (seenList) => ({
          'test.Deposited': async (message, { attempt }) => {
            if (failures < 2) {
              failures++;
              throw new Error(`database busy (attempt ${attempt})`);
            }
            seenList.push(message);
          },
        }),
        5,
        (failure) => retries.push(failure),
      );
      await consumer.start();
      relay.start();
      await eventStore.appendToStream(
        uniqueId('acct'),
        [{ type: 'test.Deposited', data: { amountCents: 1 } }],
        { publishTo: destination, correlationId: 'flow-retried' },
      );
      await eventually(async () => seen.length === 1, 'the retried message');
      expect(failures).toBe(2);
      expect(
        retries.map(({ attempt, type, messageId, correlationId }) => ({
          attempt,
          type,
          messageId,
          correlationId,
        })),
      ).toEqual([
        { attempt: 1, type: 'test.Deposited', messageId: seen[0]!.id, correlationId: 'flow-retried' },
        { attempt: 2, type: 'test.Deposited', messageId: seen[0]!.id, correlationId: 'flow-retried' },
      ]);
      expect(retries[0]!.reason).toBe('Error: database busy (attempt 1)');
      expect(retries[0]!.error).toBeInstanceOf(Error);
      expect(retries.every(({ delayMs }) => delayMs > 0)).toBe(true);
    });

    it('runs a transaction that lost a write race again at once, within the same delivery, and backs off only past its conflict retries', async () => {
      const runs = new Map<string, number>();
      const retries: ConsumerRetry[] = [];
      const { eventStore, relay, consumer, destination, seen } = await setup(
        (seenList) => ({
          'test.Deposited': async (message, { attempt }) => {
            const run = (runs.get(message.streamId) ?? 0) + 1;
            runs.set(message.streamId, run);
            // What an append in the handler's transaction throws when another transaction took
            // the stream's next version first; the whole transaction rolled back.
            const conflicts = (message.data as { amountCents: number }).amountCents;
            if (run <= conflicts) throw new ConcurrencyError(message.streamId, run, run + 1);
            seenList.push({ ...message, metadata: { attempt } });
          },
        }),
        5,
        (failure) => retries.push(failure),
      );
      await consumer.start();
      relay.start();
      // Two conflicts: within the default five, run again at once. Seven: past them, a retry. One
      // after the other, so that neither shares the other's transaction.
      const quick = uniqueId('acct');
      const slow = uniqueId('acct');
      const deposit = (stream: string, conflicts: number) =>
        eventStore.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: conflicts } }], {
          publishTo: destination,
        });
      await deposit(quick, 2);
      await eventually(async () => seen.length === 1, 'the message that conflicted twice');
      await deposit(slow, 7);
      await eventually(async () => seen.length === 2, 'the message that conflicted seven times');
      const handled = (stream: string) => seen.find((message) => message.streamId === stream)!;
      expect(runs.get(quick)).toBe(3);
      expect(handled(quick).metadata).toEqual({ attempt: 1 });
      expect(retries.filter((failure) => failure.messageId === handled(quick).id)).toEqual([]);
      // Six runs in the first delivery (one and five again), then the second delivery's.
      expect(runs.get(slow)).toBe(8);
      expect(handled(slow).metadata).toEqual({ attempt: 2 });
      expect(retries.map((failure) => [failure.messageId, failure.attempt])).toEqual([[handled(slow).id, 1]]);
      expect(retries[0]!.error).toBeInstanceOf(ConcurrencyError);
    });

    it('says when a gathered transaction failed whole, then handles its messages one by one', async () => {
      const splits: ConsumerBatchSplit[] = [];
      const retries: ConsumerRetry[] = [];
      let firstRun = true;
      let failedOnce = false;
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const handledIn = new WeakMap<object, number>();
      const { eventStore, relay, consumer, destination, seen } = await setup(
        (seenList) => ({
          'test.Deposited': async (message, { tx }) => {
            // The first message holds its transaction until the others were published, so that
            // they arrive meanwhile and are gathered into the next ones.
            if (firstRun) {
              firstRun = false;
              await released;
            }
            // A failure only a batch meets (as a deadlock between two transactions would be): the
            // second message of a transaction fails, once.
            const count = (handledIn.get(tx) ?? 0) + 1;
            handledIn.set(tx, count);
            if (count === 2 && !failedOnce) {
              failedOnce = true;
              throw new Error('deadlock detected');
            }
            seenList.push(message);
          },
        }),
        5,
        (failure) => retries.push(failure),
        (split) => splits.push(split),
      );
      await consumer.start();
      relay.start();
      const deposit = () =>
        eventStore.appendToStream(uniqueId('acct'), [{ type: 'test.Deposited', data: { amountCents: 1 } }], {
          publishTo: destination,
        });
      await deposit();
      await eventually(async () => !firstRun, 'the first message in its handler');
      // Eight more, each on its own key: a transport with partitions spreads them over several.
      await Promise.all(Array.from({ length: 8 }, deposit));
      await eventually(async () => (await relay.status()).backlog === 0, 'the eight published');
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      // A handler's memory is not rolled back with its transaction: count the distinct messages.
      const handled = () => new Set(seen.map((message) => message.id)).size;
      await eventually(async () => handled() === 9, 'all nine messages handled');
      expect(failedOnce).toBe(true);
      expect(splits).toHaveLength(1);
      expect(splits[0]!.messages).toBeGreaterThanOrEqual(2);
      expect(splits[0]!.reason).toBe('Error: deadlock detected');
      // Alone, each message of the failed batch went through at once: no retry, no backoff.
      expect(retries).toEqual([]);
    });

    it('dead-letters invalid input with a clear reason, parks its key, keeps going, and redrives in order', async () => {
      let broken = true;
      const { eventStore, storeB, relay, consumer, destination, seen } = await setup((seenList) => ({
        'test.Deposited': async (message) => {
          if (broken && (message.data as { amountCents: number }).amountCents === 13)
            throw new Error('cannot handle 13');
          seenList.push(message);
        },
      }));
      await consumer.start();
      relay.start();
      const [poisoned, healthy] = [uniqueId('acct'), uniqueId('acct')];
      for (const amountCents of [1, 13, 2, 3]) {
        await eventStore.appendToStream(poisoned, [{ type: 'test.Deposited', data: { amountCents } }], {
          publishTo: destination,
        });
      }
      await eventStore.appendToStream(healthy, [{ type: 'test.Deposited', data: { amountCents: 5 } }], {
        publishTo: destination,
      });
      await eventually(
        async () => (await storeB.deadLetters.list({ consumer: consumer.name })).length === 3,
        'one dead and two parked',
      );
      await eventually(async () => seen.some((m) => m.streamId === healthy), 'the healthy stream');
      const letters = await storeB.deadLetters.list({ consumer: consumer.name });
      expect(letters.map((d) => d.status)).toEqual(['dead', 'parked', 'parked']);
      expect(letters[0]!.reason).toMatch(/cannot handle 13 \(after 3 attempts\)/);
      expect(
        seen
          .filter((m) => m.streamId === poisoned)
          .map((m) => (m.data as { amountCents: number }).amountCents),
      ).toEqual([1]);

      broken = false;
      expect(await consumer.redrive(letters[0]!.sequence)).toEqual({ redriven: 3 });
      expect(
        seen
          .filter((m) => m.streamId === poisoned)
          .map((m) => (m.data as { amountCents: number }).amountCents),
      ).toEqual([1, 13, 2, 3]);
      expect(await storeB.deadLetters.isKeyBlocked(null, consumer.name, poisoned)).toBe(false);
    });

    it('dead-letters a handled message that fails schema validation at the first attempt; acknowledges a type it does not handle', async () => {
      const { storeB, consumer, destination, transport, seen } = await setup(recordAll);
      await consumer.start();
      const bad = (type: string, data: unknown) => {
        const id = uniqueId('m');
        return {
          id,
          destination,
          orderingKey: uniqueId('k'),
          type,
          payload: { id, type, schemaVersion: 1, streamId: 'x', data },
        };
      };
      // A destination carries other services' types too: one without a handler is not this
      // consumer's business (acknowledged, never validated), whatever its payload.
      const good = bad('test.Deposited', { amountCents: 7 });
      const foreign = bad('test.Unknown', { anything: true });
      await transport.publish([bad('test.Deposited', { amountCents: -1 }), foreign, good]);
      await eventually(
        () => storeB.inbox.has(null, consumer.name, foreign.id),
        'the foreign type acknowledged',
      );
      await eventually(async () => seen.length === 1, 'the valid message handled');
      await eventually(
        async () => (await storeB.deadLetters.list({ consumer: consumer.name })).length === 1,
        'one dead letter',
      );
      const letters = await storeB.deadLetters.list({ consumer: consumer.name });
      expect(letters.map((d) => [d.reason, d.attempts])).toEqual([
        [expect.stringMatching(/ValidationError: Invalid test.Deposited: amountCents/), 1],
      ]);
      expect(seen.map((m) => m.id)).toEqual([good.id]);
    });
  });
}
export { runPipelineAcrossRestart } from './broker-restart.ts';
export { describeSubscribedProjectionConformance } from './subscribed-projection.ts';
