/**
 * A service's admin endpoints on a real SQLite store and the embedded transport: outside dev mode
 * reads need the read or the admin token and actions the admin token, and a dev-mode poison message really lands in the
 * dead-letter queue, where discard and redrive act on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Consumer,
  createOutboxRelay,
  newMessageId,
  type RetentionSchedule,
  type Store,
  type Transport,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createDevPoison, type DevPoison } from './dev-poison.ts';
import { registerServiceAdmin } from './service-admin.ts';
import { createServiceRetention } from './service-retention.ts';
import { createHttpApp } from './service-runtime.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'causeway-service-admin-'));
let store: Store;
let transport: Transport;
let relay: ReturnType<typeof createOutboxRelay>;
let devPoison: DevPoison;
let guarded: FastifyInstance;
let dev: FastifyInstance;

function appWith(env: Record<string, string>, retention: RetentionSchedule | null = null): FastifyInstance {
  const app = createHttpApp();
  registerServiceAdmin({
    name: 'payments',
    config: loadConfig([], { DATA_DIR: dataDir, ...env }),
    store,
    app,
    consumers: (): Consumer[] => [devPoison.consumer],
    devPoison,
    retention,
  });
  return app;
}

beforeAll(async () => {
  store = await createSqliteStore({ filename: join(dataDir, 'payments.db') });
  transport = createEmbeddedTransport({ filename: join(dataDir, 'transport.db') });
  relay = createOutboxRelay({ store, transport, idlePollMs: 50 });
  relay.start();
  devPoison = createDevPoison({ service: 'payments', store, transport });
  guarded = appWith({ SHOP_ADMIN_TOKEN: 's3cret', SHOP_READ_TOKEN: 'look' });
  dev = appWith({});
});

afterAll(async () => {
  await devPoison.consumer.stop();
  await relay.stop();
  await transport.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('service admin endpoints', () => {
  it('outside dev mode, answers reads only with the read or the admin token; health stays open', async () => {
    for (const url of [
      '/admin/info',
      '/admin/events?after=0&data=1',
      '/admin/dead-letters',
      '/admin/sagas',
      '/metrics',
    ]) {
      const missing = await guarded.inject({ method: 'GET', url });
      expect(missing.statusCode, url).toBe(401);
      expect(missing.headers['www-authenticate']).toContain('Bearer');
      expect((await guarded.inject({ method: 'GET', url, headers: bearer('nope') })).statusCode, url).toBe(
        403,
      );
    }
    for (const token of ['look', 's3cret']) {
      const events = await guarded.inject({
        method: 'GET',
        url: '/admin/events?after=0&data=1',
        headers: bearer(token),
      });
      expect(events.statusCode, token).toBe(200);
    }
    // Liveness passes the guard (the route itself is runService's, not registered here: 404).
    expect((await guarded.inject({ method: 'GET', url: '/admin/health' })).statusCode).toBe(404);
    // The read token reads; it does not act.
    const discard = await guarded.inject({
      method: 'DELETE',
      url: '/admin/dead-letters/1',
      headers: bearer('look'),
    });
    expect(discard.statusCode).toBe(403);
    // Dev mode: open to anyone on the machine (dev mode listens on loopback only).
    expect((await dev.inject({ method: 'GET', url: '/admin/events?after=0&data=1' })).statusCode).toBe(200);
  });

  it('answers reads with a token: info, outbox, events, sagas', async () => {
    const info = await guarded.inject({ method: 'GET', url: '/admin/info', headers: bearer('look') });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({
      service: 'payments',
      dev: false,
      database: { kind: 'sqlite', location: join(dataDir, 'payments.db') },
      transport: 'embedded',
      consumers: [],
    });
    expect(
      (await guarded.inject({ method: 'GET', url: '/admin/outbox', headers: bearer('look') })).json(),
    ).toEqual({
      count: 0,
      oldestAgeMs: 0,
    });
    expect(
      (await guarded.inject({ method: 'GET', url: '/admin/events?after=0', headers: bearer('look') })).json(),
    ).toMatchObject({
      items: [],
      position: 0,
    });
    expect(
      (await guarded.inject({ method: 'GET', url: '/admin/sagas', headers: bearer('look') })).json().counts,
    ).toMatchObject({
      running: 0,
      dead: 0,
    });
    const badCursor = await guarded.inject({
      method: 'GET',
      url: '/admin/events?cursor=nonsense',
      headers: bearer('look'),
    });
    expect(badCursor.statusCode).toBe(400);
  });

  it('shows what retention keeps and its last pass; without the timer, the counts alone', async () => {
    const off = await guarded.inject({ method: 'GET', url: '/admin/retention', headers: bearer('look') });
    expect(off.json()).toEqual({
      enabled: false,
      lastPass: null,
      kept: {
        inboxReceipts: { count: expect.any(Number), oldestAgeMs: expect.any(Number) },
        publishedOutbox: { count: expect.any(Number), oldestAgeMs: expect.any(Number) },
      },
    });
    const config = loadConfig([], {
      DATA_DIR: dataDir,
      SHOP_RETENTION_INTERVAL_MS: '100',
      SHOP_INBOX_RETENTION_MS: '1000',
      SHOP_OUTBOX_RETENTION_MS: '0',
    });
    const retention = createServiceRetention(config, store)!;
    const app = appWith({}, retention);
    await store.transaction((tx) => store.inbox.record(tx, 'retention-check', newMessageId()));
    const before = (await app.inject({ method: 'GET', url: '/admin/retention' })).json();
    expect(before).toMatchObject({
      enabled: true,
      intervalMs: 100,
      policy: { inboxMs: 1000, publishedOutboxMs: 0 },
      lastPass: null,
    });
    expect(before.kept.inboxReceipts.count).toBeGreaterThanOrEqual(1);
    retention.start();
    try {
      const deadline = Date.now() + 10_000;
      let after = before;
      while (Date.now() < deadline && after.kept.inboxReceipts.count > 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = (await app.inject({ method: 'GET', url: '/admin/retention' })).json();
      }
      expect(after.kept.inboxReceipts).toEqual({ count: 0, oldestAgeMs: 0 });
      expect(after.lastPass).toMatchObject({
        startedAt: expect.any(String),
        outboxPruned: expect.any(Number),
      });
    } finally {
      await retention.stop();
    }
  });

  it('refuses actions without the token (401) or with another (403), outside dev mode', async () => {
    for (const [method, url] of [
      ['POST', '/admin/dead-letters/1/redrive'],
      ['DELETE', '/admin/dead-letters/1'],
      ['POST', '/admin/dev/poison'],
    ] as const) {
      const missing = await guarded.inject({ method, url });
      expect(missing.statusCode, `${method} ${url}`).toBe(401);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      expect(missing.headers['www-authenticate']).toContain('Bearer');
      const wrong = await guarded.inject({ method, url, headers: bearer('guess') });
      expect(wrong.statusCode, `${method} ${url}`).toBe(403);
    }
    // With the token the action runs: here, an unknown dead letter, and no poison outside dev mode.
    const known = await guarded.inject({
      method: 'POST',
      url: '/admin/dead-letters/1/redrive',
      headers: bearer('s3cret'),
    });
    expect(known.statusCode).toBe(404);
    const poison = await guarded.inject({
      method: 'POST',
      url: '/admin/dev/poison',
      headers: bearer('s3cret'),
      payload: {},
    });
    expect(poison.statusCode).toBe(404);
  });

  it('in dev mode, puts a poison message in the dead-letter queue; discard closes it, a second discard is a conflict', async () => {
    const sent = await dev.inject({
      method: 'POST',
      url: '/admin/dev/poison',
      payload: { refuseAttempts: 1_000 },
    });
    expect(sent.statusCode).toBe(202);
    const deadline = Date.now() + 20_000;
    let entry: { sequence: number; status: string; reason: string; consumer: string } | undefined;
    while (!entry && Date.now() < deadline) {
      const { items } = (await dev.inject({ method: 'GET', url: '/admin/dead-letters' })).json();
      entry = items.find((item: { messageId: string }) => item.messageId === sent.json().messageId);
      if (!entry) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(entry).toMatchObject({ status: 'dead', consumer: 'payments-dev' });
    expect(entry!.reason).toContain('poison message refused on attempt 1');

    const redrive = await dev.inject({
      method: 'POST',
      url: `/admin/dead-letters/${entry!.sequence}/redrive`,
    });
    expect(redrive.json()).toMatchObject({ redriven: 0, failed: { status: 'dead', attempts: 2 } });
    const discarded = await dev.inject({ method: 'DELETE', url: `/admin/dead-letters/${entry!.sequence}` });
    expect(discarded.json()).toEqual({ id: entry!.sequence, status: 'discarded' });
    const again = await dev.inject({ method: 'DELETE', url: `/admin/dead-letters/${entry!.sequence}` });
    expect(again.statusCode).toBe(409);
    const counts = (await dev.inject({ method: 'GET', url: '/admin/overview' })).json().deadLetters;
    expect(counts).toMatchObject({ open: 0, discarded: 1 });
  });
});
