/**
 * Everything `causeway doctor` checks: the service database and the brokers named. Each part is
 * optional, but one must be named; the rows come database first, then NATS, then RabbitMQ.
 */

import type { RetentionPolicy } from '@causeway/core';
import { checkNats, type NatsTarget } from './check-nats.ts';
import { checkRabbitMq, type RabbitMqTarget } from './check-rabbitmq.ts';
import { type Check, runDoctor } from './doctor.ts';
import { CannotOpenError, type DatabaseTarget, openDatabaseWithVersion } from './open-database.ts';

export interface DeploymentTargets {
  database?: DatabaseTarget;
  /** The database's outbox fails its check when its oldest message is older. */
  outboxAgeLimitSeconds: number;
  /** The service's retention policy: rows kept well past it mean no retention pass runs. */
  retention: RetentionPolicy;
  nats?: NatsTarget;
  rabbitMq?: RabbitMqTarget;
}

/**
 * Runs the checks of every target named. A database it cannot open throws CannotOpenError (nothing
 * was looked at); a broker that does not answer is a failing row, so the other checks still run.
 */
export async function checkDeployment(targets: DeploymentTargets): Promise<Check[]> {
  if (!targets.database && !targets.nats && !targets.rabbitMq) {
    throw new CannotOpenError(
      'Say what to check: --db <file-or-url> (or CAUSEWAY_DB), --nats <url> (or CAUSEWAY_NATS), --rabbitmq <amqp-url> (or CAUSEWAY_RABBITMQ)',
    );
  }
  const checks: Check[] = [];
  if (targets.database) {
    const { store, schema } = await openDatabaseWithVersion(targets.database);
    try {
      checks.push(
        ...(await runDoctor(store, {
          outboxAgeLimitSeconds: targets.outboxAgeLimitSeconds,
          schema,
          retention: targets.retention,
          postgresSchema: targets.database.schema,
        })),
      );
    } finally {
      await store.close();
    }
  }
  const brokers = await Promise.all([
    targets.nats ? checkNats(targets.nats) : [],
    targets.rabbitMq ? checkRabbitMq(targets.rabbitMq) : [],
  ]);
  return [...checks, ...brokers.flat()];
}
