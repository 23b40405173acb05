import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { readyBanner } from './ready-banner.ts';

const noEnvironment = {};

describe('readyBanner', () => {
  it('starts with the dashboard URL, and on the defaults says the data stays in DATA_DIR', () => {
    const config = loadConfig(['--data-dir', '/tmp/shop-banner'], noEnvironment);
    expect(readyBanner(config)).toEqual([
      '',
      'Shop ready: http://127.0.0.1:3000/  (the dashboard; the API is http://127.0.0.1:3000/api)',
      '  data:      SQLite files in /tmp/shop-banner',
      '  transport: embedded, in /tmp/shop-banner/transport.db',
      '  cache:     in memory (LRU)',
      'Press Ctrl-C to stop.',
    ]);
  });

  it('names the databases and streams of a shop on another port, with the flags that change them', () => {
    const config = loadConfig(
      ['--port', '3100', '--postgres', 'postgres://shop:secret@db.local:5432/shop', '--transport', 'nats'],
      {
        NATS_URL: 'nats://app:hidden@nats.local:4222',
        SHOP_CACHE: 'redis',
        REDIS_URL: 'redis://:pw@cache:6379',
      },
    );
    const banner = readyBanner(config).join('\n');
    expect(banner).toContain('Shop ready: http://127.0.0.1:3100/ ');
    expect(banner).toContain('data:      PostgreSQL db.local:5432, databases shop_3100_* (--db-prefix)');
    expect(banner).toContain(
      'transport: NATS nats://app:***@nats.local:4222, streams shop_3100_* (--stream-prefix)',
    );
    expect(banner).toContain('cache:     Redis redis://:***@cache:6379');
    expect(banner).not.toMatch(/secret|hidden|:pw@/);
  });

  it('spells RabbitMQ names as RabbitMQ does, with the prefix given', () => {
    const config = loadConfig(['--transport', 'rabbitmq', '--stream-prefix', 'blue'], noEnvironment);
    expect(readyBanner(config)).toContain(
      '  transport: RabbitMQ amqp://guest:***@127.0.0.1:5672, exchanges and queues blue.* (--stream-prefix)',
    );
  });
});
