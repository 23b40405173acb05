/**
 * @causeway/cli: the `causeway` command (`npx causeway --help`). The functions behind it, for
 * tools of your own.
 */
export { listDeadLetters, listSagas, listStreams, outboxStatus, showStream } from './commands.ts';
export { type Check, checksListing, runDoctor } from './doctor.ts';
export { type Listing, printListing } from './output.ts';
