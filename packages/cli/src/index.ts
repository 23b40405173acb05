/**
 * @causeway/cli: the `causeway` command (`npx causeway --help`). The functions behind it, for
 * tools of your own.
 */

export { checkDeployment, type DeploymentTargets } from './check-deployment.ts';
export { checkNats, type NatsTarget } from './check-nats.ts';
export { checkRabbitMq, type RabbitMqTarget } from './check-rabbitmq.ts';
export { listDeadLetters, listSagas, listStreams, outboxStatus, showStream } from './commands.ts';
export { type Check, checksListing, runDoctor } from './doctor.ts';
export { type Listing, printListing } from './output.ts';
