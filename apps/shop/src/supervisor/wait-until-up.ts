/**
 * The supervisor process's wait for its children, as `npm start` does it: a hint every minute
 * naming the services still not up, and when one cannot start at all, its error on stderr and
 * exit code 1 (the supervisor has stopped every child by then).
 */
import { displayPath } from './display-path.ts';
import { ServiceStartError, type Supervisor } from './supervisor.ts';

export interface WaitOptions {
  logDir: string;
  hintEveryMs?: number;
  print?: (line: string) => void;
  printError?: (line: string) => void;
  exit?: (code: number) => never;
}

/** Resolves once every service is up; never returns when one cannot start (it exits 1). */
export async function waitUntilUpOrExit(supervisor: Supervisor, options: WaitOptions): Promise<void> {
  const print = options.print ?? ((line) => console.log(line));
  const hint = setInterval(() => {
    print(
      `  still waiting for ${supervisor.notUp().join(', ')}: see their logs in ${displayPath(options.logDir)}`,
    );
  }, options.hintEveryMs ?? 60_000);
  try {
    await supervisor.whenAllUp();
  } catch (error) {
    if (!(error instanceof ServiceStartError)) throw error;
    const printError = options.printError ?? ((line) => console.error(line));
    printError(startFailureReport(error));
    (options.exit ?? process.exit)(1);
  } finally {
    clearInterval(hint);
  }
}

/** Why the shop stopped: the service, how it failed, and its own error lines. */
export function startFailureReport(error: ServiceStartError): string {
  return [
    `\nThe shop stopped: ${error.message}. Its error:`,
    ...error.errorLines.map((line) => `  ${line}`),
    `(its whole log: ${displayPath(error.logFile)})`,
  ].join('\n');
}
