/** What a Supervisor is given: its services, where it writes, its policies, and who listens. */
import type { CrashLoopPolicy, RestartPolicy } from './restart-decision.ts';

export interface ServiceEntry {
  name: string;
  /** The entry point: a `.js` file runs with plain node, a `.ts` one with tsx (see child-command.ts). */
  script: string;
  /** The child's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  /** GET answering 200 when the child is ready. */
  healthUrl: string;
  healthHeaders?: Record<string, string>;
  /** Shown after the pid when the child comes up, e.g. its URL and where its data lives. */
  describe?: string;
}

export type SupervisorEvent =
  | { type: 'spawned'; service: string; pid: number; restarts: number }
  | { type: 'up'; service: string; pid: number }
  | {
      type: 'exited';
      service: string;
      pid: number | undefined;
      code: number | null;
      signal: NodeJS.Signals | null;
      /** null: exited because the supervisor stopped it. */
      restartInMs: number | null;
    }
  | { type: 'foreign-health'; service: string; answeredByPid: number }
  /** The service crash-looped before it was ever up: every child is being stopped. */
  | { type: 'gave-up'; service: string; earlyExits: number };

export interface SupervisorOptions {
  services: readonly ServiceEntry[];
  /** Where the status (supervisor.json) is written whenever it changes. */
  statusFile: string;
  /** Each child's output goes to `<logDir>/<name>.log`. */
  logDir: string;
  restart?: Partial<RestartPolicy>;
  /** When a child that never came up counts as unable to start (default: 3 exits within 60 s each). */
  crashLoop?: Partial<CrashLoopPolicy>;
  /** How long a child gets between SIGTERM and SIGKILL when stopping. */
  stopGraceMs?: number;
  healthIntervalMs?: number;
  /** One line of output (default: console.log). */
  print?: (line: string) => void;
  /** Observes what happens to the children, with the time it happened (Date.now()). */
  onEvent?: (event: SupervisorEvent, at: number) => void;
  /** Jitter source for the backoff; `() => 1` makes the delays exact (tests). */
  random?: () => number;
}
