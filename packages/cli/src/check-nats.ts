/**
 * `causeway doctor --nats`: checks the NATS server a deployment's transport uses. Every row states
 * what was read (the connection's INFO, the JetStream API, `/varz` when given); what cannot be read
 * is reported as not checked, never as ok.
 */
import { defaultStreamPrefix, describeAckDurability, fetchVarz } from '@causeway/nats';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Check } from './doctor.ts';
import { reasonOf } from './error-reason.ts';
import { redacted } from './open-database.ts';

export interface NatsTarget {
  /** Server URLs, comma-separated, as the transport takes them. */
  url: string;
  /** The monitoring endpoint (e.g. http://127.0.0.1:8222): the only place `sync_interval` shows. */
  monitorUrl?: string;
  /** The transport's `streamPrefix`: its streams are `<prefix>_<destination>` (default `CW`). */
  streamPrefix?: string;
}

const timeoutMs = 5_000;

/** Connects once, reads what the server says about itself, and closes; never writes. */
export async function checkNats(target: NatsTarget): Promise<Check[]> {
  const where = redacted(target.url);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: target.url.split(',').map((server) => server.trim()),
      name: 'causeway doctor',
      timeout: timeoutMs,
      reconnect: false,
    });
  } catch (error) {
    return [
      {
        check: 'nats',
        status: 'fail',
        detail: `no NATS server answers at ${where} (${reasonOf(error)})`,
        fix: 'start nats-server with JetStream (nats-server -js), or pass the URL the services use: --nats nats://host:4222',
      },
    ];
  }
  try {
    const version = nc.info?.version;
    const checks: Check[] = [
      {
        check: 'nats',
        status: 'ok',
        detail: `nats-server ${version ?? '(version not announced)'} at ${where}`,
      },
    ];
    // INFO omits `jetstream` when the server runs without it.
    if (nc.info?.jetstream !== true) {
      checks.push({
        check: 'nats jetstream',
        status: 'fail',
        detail: 'not enabled on this server: the NATS transport keeps every message in JetStream streams',
        fix: 'start nats-server with -js, or add a jetstream { store_dir: ... } block to its config',
      });
      return checks;
    }
    const prefix = target.streamPrefix ?? defaultStreamPrefix;
    let replicas: number[];
    try {
      replicas = await readStreamReplicas(await jetstreamManager(nc, { timeout: timeoutMs }), prefix);
    } catch (error) {
      checks.push({
        check: 'nats jetstream',
        status: 'fail',
        detail: `enabled on the server, but its API did not answer (${reasonOf(error)})`,
        fix: "give this user's account JetStream (jetstream: enabled in its accounts block), and check the server log",
      });
      return checks;
    }
    checks.push({
      check: 'nats jetstream',
      status: 'ok',
      detail: `enabled; ${replicas.length} stream(s) named ${prefix}_*`,
    });
    checks.push(await checkAckDurability({ version, replicas, prefix, monitorUrl: target.monitorUrl }));
    return checks;
  } finally {
    await nc.close().catch(() => {});
  }
}

/** The replicas of each of the transport's streams (none yet: an empty list). */
async function readStreamReplicas(jsm: JetStreamManager, prefix: string): Promise<number[]> {
  const replicas: number[] = [];
  for await (const stream of jsm.streams.list()) {
    if (stream.config.name.startsWith(`${prefix}_`)) replicas.push(stream.config.num_replicas);
  }
  return replicas;
}

/**
 * Whether an acked publish survives a power loss, judged by ack-durability.ts from the server
 * version, the streams' replicas and `/varz`. Without streams the transport's default (1) is
 * assumed, and the row says so.
 */
async function checkAckDurability(facts: {
  version: string | undefined;
  replicas: readonly number[];
  prefix: string;
  monitorUrl: string | undefined;
}): Promise<Check> {
  const check = 'nats ack durability';
  const replicas = facts.replicas.length > 0 ? Math.min(...facts.replicas) : 1;
  const replicasSource =
    facts.replicas.length > 0
      ? `the lowest of ${facts.replicas.length} ${facts.prefix}_* stream(s)`
      : `no ${facts.prefix}_* stream yet: the transport's default replicas`;
  const varz = facts.monitorUrl === undefined ? undefined : await fetchVarz(facts.monitorUrl, timeoutMs);
  const warning = describeAckDurability({ serverVersion: facts.version, replicas, varz });
  if (warning !== undefined) {
    // The warning reads "<the risk>; <what to do>".
    const [risk, ...todo] = warning.split('; ');
    return {
      check,
      status: 'warn',
      detail: `${risk} (${replicasSource})`,
      fix: todo.length > 0 ? todo.join('; ') : 'set sync_interval: always, or use replicas >= 3 on a cluster',
    };
  }
  return explainSilence({ replicas, replicasSource, monitorUrl: facts.monitorUrl, varz });
}

/** describeAckDurability found no risk: say why, or that it could not look (no /varz). */
function explainSilence(facts: {
  replicas: number;
  replicasSource: string;
  monitorUrl: string | undefined;
  varz: unknown;
}): Check {
  const check = 'nats ack durability';
  const { replicas, replicasSource } = facts;
  if (replicas >= 3) {
    return {
      check,
      status: 'ok',
      detail: `replicas ${replicas} (${replicasSource}): a majority holds each message before the ack; a power loss of the whole cluster still needs sync_interval: always`,
    };
  }
  if (facts.monitorUrl === undefined) {
    return {
      check,
      status: 'warn',
      detail: `not checked: pass --nats-monitor; with replicas ${replicas} an ack survives a power loss only with sync_interval: always, which only /varz shows`,
      fix: 'pass --nats-monitor http://host:8222 (nats-server -m 8222, or http_port in its config)',
    };
  }
  if (facts.varz === undefined) {
    return {
      check,
      status: 'warn',
      detail: `not checked: could not read ${new URL('/varz', facts.monitorUrl)}`,
      fix: 'pass the monitoring endpoint nats-server serves (-m 8222, or http_port in its config)',
    };
  }
  // describeAckDurability stays silent on fewer than 3 replicas only when /varz shows sync_always.
  return {
    check,
    status: 'ok',
    detail: 'sync_interval: always (read from /varz): every write is fsynced before its ack',
  };
}
