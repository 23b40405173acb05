import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNatsTransport } from './nats-transport.ts';
import {
  type ConsumerState,
  createPartitionWatchdog,
  minimumStalledPartitionMs,
  stalledPartitionThreshold,
} from './partition-watchdog.ts';

const silentMs = 1_000;

function consumerState(overrides: Partial<ConsumerState> = {}): ConsumerState {
  return {
    num_pending: 0,
    num_ack_pending: 0,
    num_waiting: 1,
    num_redelivered: 0,
    delivered: { consumer_seq: 0, stream_seq: 0 },
    ack_floor: { consumer_seq: 0, stream_seq: 0 },
    ...overrides,
  };
}

/** A watchdog over one fake partition whose consumer reports `state`. */
function watchOne(state: () => ConsumerState | undefined) {
  const warnings: string[] = [];
  const inspect = vi.fn(async () => state());
  const restartPull = vi.fn();
  const recreate = vi.fn(async () => {});
  const watchdog = createPartitionWatchdog({ silentMs, warn: (message) => warnings.push(message) });
  const watch = watchdog.watch({ label: 'consumer g_p0 of stream S', inspect, recreate, restartPull });
  watch.pulling(0);
  return { watchdog, watch, warnings, inspect, recreate, restartPull };
}

describe('partition watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('recreates a consumer whose delivered sequence went below zero, though nothing shows pending', async () => {
    // What nats-server 2.9 reports after counting back past 1: 2^64 - 1, as JSON.parse reads it.
    const wrapped = JSON.parse('18446744073709551615') as number;
    const { watchdog, recreate, restartPull, warnings } = watchOne(() =>
      consumerState({
        delivered: { consumer_seq: 9, stream_seq: wrapped },
        ack_floor: { consumer_seq: 9, stream_seq: 4 },
      }),
    );
    await vi.advanceTimersByTimeAsync(2 * silentMs);
    expect(recreate).toHaveBeenCalledTimes(1);
    expect(restartPull).toHaveBeenCalledTimes(1);
    expect(recreate.mock.invocationCallOrder[0]).toBeLessThan(restartPull.mock.invocationCallOrder[0]!);
    expect(warnings).toEqual([expect.stringMatching(/reports a sequence past any a stream can hold/)]);
    watchdog.stop();
  });

  it('asks an idle partition at most once per threshold, and leaves it alone', async () => {
    const { watchdog, inspect, restartPull, warnings } = watchOne(() => consumerState());
    await vi.advanceTimersByTimeAsync(10 * silentMs);
    expect(inspect.mock.calls.length).toBeGreaterThan(0);
    expect(inspect.mock.calls.length).toBeLessThanOrEqual(10);
    expect(restartPull).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);
    watchdog.stop();
  });

  it('asks nothing while messages arrive', async () => {
    const { watchdog, watch, inspect } = watchOne(() => consumerState({ num_pending: 5 }));
    for (let sequence = 1; sequence <= 20; sequence++) {
      watch.received(sequence);
      await vi.advanceTimersByTimeAsync(silentMs / 2);
      watch.settled();
    }
    expect(inspect).not.toHaveBeenCalled();
    watchdog.stop();
  });

  it('restarts a silent pull while messages wait, and warns once with the consumer state', async () => {
    const state = consumerState({
      num_pending: 4,
      num_ack_pending: 1,
      num_redelivered: 1,
      delivered: { consumer_seq: 2, stream_seq: 1 },
    });
    const { watchdog, restartPull, warnings } = watchOne(() => state);
    await vi.advanceTimersByTimeAsync(1.5 * silentMs);
    expect(restartPull).toHaveBeenCalledTimes(1);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^consumer g_p0 of stream S delivered nothing to this process for \d+ ms while messages wait \(num_pending=4 num_ack_pending=1 num_waiting=1 num_redelivered=1 delivered.stream_seq=1 delivered.consumer_seq=2 ack_floor.stream_seq=0 ack_floor.consumer_seq=0\); restarting its pull$/,
      ),
    ]);
    watchdog.stop();
  });

  it('never asks about a partition whose message is in a handler here, however long it takes', async () => {
    const { watchdog, watch, inspect } = watchOne(() => consumerState({ num_ack_pending: 1 }));
    watch.received(1);
    await vi.advanceTimersByTimeAsync(20 * silentMs);
    expect(inspect).not.toHaveBeenCalled();
    watchdog.stop();
  });

  it('waits out a retry delay before counting silence', async () => {
    const { watchdog, watch, inspect } = watchOne(() => consumerState({ num_ack_pending: 1 }));
    watch.received(1);
    watch.holding(5 * silentMs);
    watch.settled();
    await vi.advanceTimersByTimeAsync(5 * silentMs);
    expect(inspect).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2 * silentMs);
    expect(inspect).toHaveBeenCalled();
    watchdog.stop();
  });

  it('leaves a partition that another process of the group moves, until it stops moving', async () => {
    let ackFloor = 0;
    const { watchdog, restartPull } = watchOne(() =>
      consumerState({ num_pending: 3, ack_floor: { consumer_seq: ackFloor, stream_seq: ackFloor } }),
    );
    // One check per threshold: each finds the floor moved since the last.
    for (let round = 0; round < 5; round++) {
      ackFloor += 10;
      await vi.advanceTimersByTimeAsync(silentMs);
    }
    expect(restartPull).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(silentMs);
    expect(restartPull).toHaveBeenCalledTimes(1);
    watchdog.stop();
  });

  it('restarts the pull of a consumer that is gone, so that it is created again', async () => {
    const { watchdog, restartPull, warnings } = watchOne(() => undefined);
    await vi.advanceTimersByTimeAsync(1.5 * silentMs);
    expect(restartPull).toHaveBeenCalledTimes(1);
    expect(warnings).toEqual([expect.stringMatching(/consumer g_p0 of stream S is gone/)]);
    watchdog.stop();
  });

  it('asks nothing once stopped, and nothing at all when turned off', async () => {
    const stopped = watchOne(() => consumerState({ num_pending: 1 }));
    stopped.watchdog.stop();
    const off = createPartitionWatchdog({ silentMs: Number.POSITIVE_INFINITY, warn: () => {} });
    const inspect = vi.fn(async () => consumerState({ num_pending: 1 }));
    off.watch({ label: 'off', inspect, recreate: async () => {}, restartPull: () => {} });
    await vi.advanceTimersByTimeAsync(100 * silentMs);
    expect(stopped.inspect).not.toHaveBeenCalled();
    expect(inspect).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    off.stop();
  });

  it('refuses a stalledPartitionMs that is not a positive number of milliseconds', () => {
    for (const stalledPartitionMs of [0, -1, Number.NaN]) {
      expect(() => createNatsTransport({ servers: 'nats://127.0.0.1:4222', stalledPartitionMs })).toThrow(
        /NATS stalledPartitionMs must be a positive number of milliseconds, or Infinity/,
      );
    }
  });

  it('waits three ack waits by default, at least the floor, unless configured', () => {
    expect(stalledPartitionThreshold(30_000)).toBe(90_000);
    expect(stalledPartitionThreshold(100)).toBe(minimumStalledPartitionMs);
    expect(stalledPartitionThreshold(30_000, 500)).toBe(500);
  });
});
