/**
 * A service that cannot start: it died again and again before it ever answered its health
 * check, so the supervisor stopped every child and `whenAllUp()` rejects with this.
 */
export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
  /** The service's name. */
  readonly service: string;
  /** What the child wrote about why it died (see child-error.ts). */
  readonly errorLines: readonly string[];
  /** The child's log file. */
  readonly logFile: string;

  constructor(details: { service: string; errorLines: readonly string[]; logFile: string; message: string }) {
    super(details.message);
    this.service = details.service;
    this.errorLines = details.errorLines;
    this.logFile = details.logFile;
  }
}
