/**
 * Ties the supervisor's life to the terminal: Ctrl-C (SIGINT) or SIGTERM stops every child and
 * exits 0. A crash of the supervisor itself also stops the children first, so that no service
 * is left holding its port.
 */
import type { Supervisor } from './supervisor.ts';

export function stopOnSignals(supervisor: Supervisor, print: (line: string) => void = console.log): void {
  let exiting = false;
  const stopAndExit = async (reason: string, exitCode: number) => {
    if (exiting) return; // a second Ctrl-C: the stop under way already ends with SIGKILL
    exiting = true;
    print(`\n${reason}: stopping the shop...`);
    await supervisor.stop();
    print('Stopped.');
    process.exit(exitCode);
  };
  // `npm start | tee shop.log`, then Ctrl-C: tee dies with us, and every later line would be an
  // uncaught EPIPE, reported on the same dead pipe, again and again, starving the stop itself.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreBrokenPipe);
  process.on('SIGINT', () => void stopAndExit('SIGINT', 0));
  process.on('SIGTERM', () => void stopAndExit('SIGTERM', 0));
  const onFatal = (error: unknown) => {
    if (!exiting) console.error('Supervisor failed:', error);
    void stopAndExit('supervisor error', 1);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}

/** Output nobody reads any more is dropped; any other stream error is still a failure. */
function ignoreBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}
