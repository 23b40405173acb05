import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CausewayError, type Delivery, newMessageId, type TransportMessage } from '@causeway/core';
import { describeTransportConformance } from '@causeway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEmbeddedTransport, type EmbeddedTransportOptions } from './embedded-transport.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-embedded-'));

describeTransportConformance('embedded', async () =>
  createEmbeddedTransport({ filename: join(directory, 'transport.db') }),
);

let files = 0;
function open(options: Partial<EmbeddedTransportOptions> = {}) {
  const transport = createEmbeddedTransport({ filename: join(directory, `own-${files}.db`), ...options });
  onTestFinished(() => transport.close());
  return transport;
}

function message(orderingKey: string, overrides: Partial<TransportMessage> = {}): TransportMessage {
  return {
    id: newMessageId(),
    destination: 'd',
    orderingKey,
    type: 't',
    payload: { orderingKey },
    ...overrides,
  };
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('embedded transport specifics', () => {
  it('drops a message whose id is already in the log (dedupe)', async () => {
    files++;
    const transport = open();
    const first = message('k');
    await transport.publish([first]);
    await transport.publish([{ ...first, payload: 'again' }, message('k')]);
    const seen: Delivery[] = [];
    await transport.subscribe({ group: 'g', destinations: ['d'] }, async (delivery) => {
      seen.push(delivery);
      await delivery.ack();
    });
    await waitUntil(() => seen.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.map((delivery) => delivery.message.payload)).toEqual([
      { orderingKey: 'k' },
      { orderingKey: 'k' },
    ]);
    expect(seen[0]!.message.id).toBe(first.id);
  });

  it('refuses a partition count other than the one the file was created with', async () => {
    files++;
    open({ partitions: 8 });
    expect(() => open({ partitions: 4 })).toThrow(
      /uses 8 partitions, but this transport was configured with 4/,
    );
  });

  it('publishes nothing from a batch with an invalid message', async () => {
    files++;
    const transport = open();
    const good = message('k');
    const error = await transport.publish([good, message('', { id: 'bad' })]).catch((caught) => caught);
    expect(error).toBeInstanceOf(CausewayError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    const seen: string[] = [];
    await transport.publish([message('k')]);
    await transport.subscribe({ group: 'g', destinations: ['d'] }, async (delivery) => {
      seen.push(delivery.message.id);
      await delivery.ack();
    });
    await waitUntil(() => seen.length >= 1);
    expect(seen).not.toContain(good.id);
  });

  it('rejects publish and subscribe after close with STORE_UNAVAILABLE', async () => {
    files++;
    const transport = open();
    await transport.close();
    await expect(transport.publish([message('k')])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(
      transport.subscribe({ group: 'g', destinations: ['d'] }, async () => {}),
    ).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });

  it('splits the partitions between competing subscribers, even while both are busy', async () => {
    files++;
    const [a, b] = [open(), open()];
    const handledBy = new Map<string, number>();
    const handler = (name: string) => async (delivery: Delivery) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      handledBy.set(name, (handledBy.get(name) ?? 0) + 1);
      await delivery.ack();
    };
    const options = { group: 'g', destinations: ['d'], ackTimeoutMs: 300 };
    await a.subscribe(options, handler('a'));
    const messages = Array.from({ length: 400 }, (_, index) => message(`key-${index % 32}`));
    await a.publish(messages);
    await b.subscribe(options, handler('b'));
    await waitUntil(() => (handledBy.get('a') ?? 0) + (handledBy.get('b') ?? 0) >= messages.length);
    // A property, not a share: the late subscriber took partitions while the first was busy.
    expect(handledBy.get('b') ?? 0).toBeGreaterThan(0);
  });
});
