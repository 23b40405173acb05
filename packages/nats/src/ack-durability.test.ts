import { describe, expect, it } from 'vitest';
import { describeAckDurability } from './ack-durability.ts';

describe('ack durability', () => {
  it('warns for a server too old to fsync before acking', () => {
    expect(describeAckDurability({ serverVersion: '2.9.10', replicas: 1 })).toMatch(
      /cannot fsync before acking/,
    );
  });

  it('warns when /varz shows that the server does not sync on every write', () => {
    const varz = { jetstream: { config: { sync_interval: 120_000_000_000 } } };
    expect(describeAckDurability({ serverVersion: '2.11.1', replicas: 1, varz })).toMatch(
      /sync_interval: always/,
    );
  });

  it('is quiet when the server syncs always, or three replicas hold each message', () => {
    const varz = { jetstream: { config: { sync_always: true } } };
    expect(describeAckDurability({ serverVersion: '2.12.0', replicas: 1, varz })).toBeUndefined();
    expect(describeAckDurability({ serverVersion: '2.9.10', replicas: 3 })).toBeUndefined();
  });

  it('claims nothing it cannot see: no /varz, no warning for a recent server', () => {
    expect(describeAckDurability({ serverVersion: '2.10.4', replicas: 1 })).toBeUndefined();
  });
});
