/**
 * The supervisor against real child processes (test-support/fake-service.ts): no mocks, so these
 * spawn Node + tsx, which takes about a second per child on a busy machine.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readStatusFile } from './status-file.ts';
import {
  type ServiceEntry,
  ServiceStartError,
  Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
} from './supervisor.ts';
import { freePort, isAlive, temporaryDir, waitFor } from './test-support/helpers.ts';

const fakeService = fileURLToPath(new URL('./test-support/fake-service.ts', import.meta.url));

async function fakeEntry(name: string, extraEnv: Record<string, string> = {}): Promise<ServiceEntry> {
  const port = await freePort();
  return {
    name,
    script: fakeService,
    env: { ...(process.env as Record<string, string>), PORT: String(port), SHOP_SERVICE: name, ...extraEnv },
    healthUrl: `http://127.0.0.1:${port}/admin/health`,
    describe: `http://127.0.0.1:${port}`,
  };
}

interface Harness {
  supervisor: Supervisor;
  events: Array<SupervisorEvent & { at: number }>;
  lines: string[];
  statusFile: string;
}

const running: Supervisor[] = [];
afterEach(async () => {
  // A failed test must not leave children behind.
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

function supervise(services: ServiceEntry[], options: Partial<SupervisorOptions> = {}): Harness {
  const dataDir = temporaryDir();
  const events: Harness['events'] = [];
  const lines: string[] = [];
  const statusFile = join(dataDir, 'supervisor.json');
  const supervisor = new Supervisor({
    services,
    statusFile,
    logDir: join(dataDir, 'logs'),
    healthIntervalMs: 25,
    print: (line) => lines.push(line),
    onEvent: (event, at) => events.push({ ...event, at }),
    ...options,
  });
  running.push(supervisor);
  supervisor.start();
  return { supervisor, events, lines, statusFile };
}

/**
 * How long a test waits for several restarts: each spawn compiles TypeScript with tsx, which
 * takes seconds while the shop's end-to-end tests run beside it.
 */
const slowMachineMs = 50_000;

const eventsOf = <T extends SupervisorEvent['type']>(harness: Harness, type: T) =>
  harness.events.filter(
    (event): event is Extract<SupervisorEvent, { type: T }> & { at: number } => event.type === type,
  );

describe('Supervisor', () => {
  it('starts the children, reports them up in supervisor.json, and stop() kills them all', async () => {
    const harness = supervise([await fakeEntry('alpha'), await fakeEntry('beta')]);
    await harness.supervisor.whenAllUp();

    const status = readStatusFile(harness.statusFile)!;
    expect(status.supervisorPid).toBe(process.pid);
    expect(Object.keys(status.services)).toEqual(['alpha', 'beta']);
    const pids = Object.values(status.services).map((service) => service.pid!);
    for (const service of Object.values(status.services)) {
      expect(service).toMatchObject({ status: 'up', restarts: 0 });
      expect(service.pid).toBeGreaterThan(0);
    }
    expect(pids.every(isAlive)).toBe(true);
    expect(harness.lines).toHaveLength(2);
    for (const name of ['alpha', 'beta']) {
      const { pid } = status.services[name]!;
      const upLine = harness.lines.find((line) => line.startsWith(`  ${name.padEnd(10)} pid ${pid} `));
      expect(upLine).toMatch(/ http:\/\/127\.0\.0\.1:\d+$/);
    }

    await harness.supervisor.stop();
    expect(pids.some(isAlive)).toBe(false);
    const stopped = readStatusFile(harness.statusFile)!;
    expect(Object.values(stopped.services).map(({ pid, status }) => ({ pid, status }))).toEqual([
      { pid: null, status: 'stopped' },
      { pid: null, status: 'stopped' },
    ]);
    expect(eventsOf(harness, 'exited').map((event) => [event.code, event.restartInMs])).toEqual([
      [0, null],
      [0, null],
    ]);
  });

  it('restarts a crashing child with exponential backoff, capped, and counts the restarts', async () => {
    const policy = { initialMs: 150, maxMs: 600, resetAfterMs: 60_000 };
    const harness = supervise([await fakeEntry('crashy', { FAKE_CRASH_AFTER_MS: '50' })], {
      restart: policy,
      // It may die before a health probe sees it up: this test is about the backoff, not giving up.
      crashLoop: { maxEarlyExits: Number.POSITIVE_INFINITY },
      random: () => 1, // no jitter: exact delays
    });
    await waitFor('4 restarts', () => eventsOf(harness, 'spawned').length >= 5, slowMachineMs);

    const exits = eventsOf(harness, 'exited');
    const spawns = eventsOf(harness, 'spawned');
    expect(exits.slice(0, 4).map((exit) => exit.restartInMs)).toEqual([150, 300, 600, 600]);
    expect(exits.slice(0, 4).map((exit) => exit.code)).toEqual([1, 1, 1, 1]);
    for (let restart = 1; restart <= 4; restart++) {
      const exit = exits[restart - 1]!;
      const respawn = spawns[restart]!;
      expect(respawn.restarts).toBe(restart);
      expect(respawn.pid).not.toBe(exit.pid);
      // The wait really happened (timers may fire a millisecond early).
      expect(respawn.at - exit.at).toBeGreaterThanOrEqual(exit.restartInMs! - 2);
    }

    const crashLines = harness.lines.filter((line) => line.includes('exited with code 1'));
    expect(crashLines.length).toBeGreaterThanOrEqual(4);
    expect(crashLines[0]).toMatch(
      /^ {2}crashy {5}pid \d+ exited with code 1 after [\d.]+ s; restarting in 150 ms \(log: /,
    );
    // The crash line is followed by what the child wrote before dying.
    expect(harness.lines).toContain(`  ${''.padEnd(10)} | crashy: simulated crash`);

    const status = readStatusFile(harness.statusFile)!.services.crashy!;
    expect(status.restarts).toBeGreaterThanOrEqual(4);
    expect(harness.supervisor.status().services.crashy!.restarts).toBe(status.restarts);

    await harness.supervisor.stop();
    expect(spawns.map((spawned) => spawned.pid).some(isAlive)).toBe(false);
    expect(readStatusFile(harness.statusFile)!.services.crashy).toMatchObject({
      pid: null,
      status: 'stopped',
    });
  });

  it('starts the backoff over for a child that had stayed up long enough', async () => {
    const harness = supervise([await fakeEntry('flappy', { FAKE_CRASH_AFTER_MS: '300' })], {
      restart: { initialMs: 100, maxMs: 10_000, resetAfterMs: 150 },
      crashLoop: { maxEarlyExits: Number.POSITIVE_INFINITY }, // a missed probe must fail below, not stop it
      random: () => 1,
    });
    await waitFor('3 exits', () => eventsOf(harness, 'exited').length >= 3, slowMachineMs);
    // Each incarnation was seen up and lived 300 ms > 150 ms: never 200, 400...
    expect(eventsOf(harness, 'up').length).toBeGreaterThanOrEqual(3);
    expect(
      eventsOf(harness, 'exited')
        .slice(0, 3)
        .map((exit) => exit.restartInMs),
    ).toEqual([100, 100, 100]);
    expect(
      harness.lines.filter((line) => line.endsWith('(restart 1)') || line.endsWith('(restart 2)')),
    ).toHaveLength(2);
  });

  it("stops every child when a service dies at start again and again, with that service's error", async () => {
    const harness = supervise(
      [await fakeEntry('steady'), await fakeEntry('broken', { FAKE_FAIL_AT_START: 'the config is wrong' })],
      { restart: { initialMs: 50 }, crashLoop: { maxEarlyExits: 3 }, random: () => 1 },
    );
    const failure = await harness.supervisor.whenAllUp().then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(ServiceStartError);
    const error = failure as ServiceStartError;
    expect(error.service).toBe('broken');
    expect(error.message).toBe('broken exited 3 times in a row without ever answering its health check');
    // The child's own error first, then where it was thrown: not Node's internals.
    expect(error.errorLines[0]).toBe('Error: broken: the config is wrong');
    expect(error.errorLines[1]).toMatch(/^ {2}at .*fake-service\.ts:\d+:\d+/);
    expect(error.errorLines.join('\n')).not.toMatch(/node:internal|Node\.js v/);
    expect(error.logFile).toMatch(/broken\.log$/);

    const brokenExits = eventsOf(harness, 'exited').filter((exit) => exit.service === 'broken');
    expect(brokenExits.map((exit) => exit.restartInMs)).toEqual([50, 100, null]);
    expect(eventsOf(harness, 'gave-up')).toMatchObject([{ service: 'broken', earlyExits: 3 }]);
    // The error is shown once; the repeats say so instead of printing it again.
    expect(
      harness.lines.filter((line) => line.endsWith('| Error: broken: the config is wrong')),
    ).toHaveLength(1);
    expect(harness.lines.filter((line) => line.endsWith('| (the same error as before)'))).toHaveLength(2);
    expect(harness.lines.some((line) => /broken +pid \d+ exited with code 1 .*; giving up/.test(line))).toBe(
      true,
    );

    // Nothing is left running: not the broken service, not its healthy sibling.
    expect(
      eventsOf(harness, 'spawned')
        .map((spawned) => spawned.pid)
        .some(isAlive),
    ).toBe(false);
    const services = readStatusFile(harness.statusFile)!.services;
    expect(Object.values(services).map(({ pid, status }) => ({ pid, status }))).toEqual([
      { pid: null, status: 'stopped' },
      { pid: null, status: 'stopped' },
    ]);
  });

  it('keeps restarting a service that was up once, however often it then dies at start', async () => {
    const marker = join(temporaryDir(), 'first-run');
    const harness = supervise(
      [await fakeEntry('recovering', { FAKE_CRASH_AFTER_MS: '300', FAKE_FAIL_AFTER_FIRST_RUN: marker })],
      { restart: { initialMs: 50, maxMs: 100 }, crashLoop: { maxEarlyExits: 2 } },
    );
    await waitFor('5 exits', () => eventsOf(harness, 'exited').length >= 5, slowMachineMs);

    expect(eventsOf(harness, 'up')).toHaveLength(1);
    expect(eventsOf(harness, 'gave-up')).toHaveLength(0);
    expect(eventsOf(harness, 'exited').every((exit) => exit.restartInMs !== null)).toBe(true);
    expect(harness.lines).toContain(`  ${''.padEnd(10)} | Error: recovering: not the first run`);
  });

  it('runs a compiled .js entry point with plain node, without tsx', async () => {
    const dir = temporaryDir();
    const script = join(dir, 'compiled-service.js');
    // What a service in dist/ is: JavaScript that needs no loader, here one that says how it runs.
    writeFileSync(
      script,
      `import { createServer } from 'node:http';
       createServer((request, response) => {
         response.writeHead(200, { 'content-type': 'application/json' });
         response.end(JSON.stringify({ pid: process.pid, execArgv: process.execArgv }));
       }).listen(Number(process.env.PORT), '127.0.0.1');
       process.on('SIGTERM', () => process.exit(0));`,
    );
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    const entry = { ...(await fakeEntry('compiled')), script };
    const harness = supervise([entry]);
    await harness.supervisor.whenAllUp();

    const answer = (await (await fetch(entry.healthUrl)).json()) as { pid: number; execArgv: string[] };
    expect(answer.pid).toBe(readStatusFile(harness.statusFile)!.services.compiled!.pid);
    expect(answer.execArgv).toEqual([]);
  });

  it('SIGKILLs a child that ignores SIGTERM once the grace period is over', async () => {
    const harness = supervise([await fakeEntry('stubborn', { FAKE_IGNORE_SIGTERM: '1' })], {
      stopGraceMs: 500,
    });
    await harness.supervisor.whenAllUp();
    const pid = readStatusFile(harness.statusFile)!.services.stubborn!.pid!;

    const started = Date.now();
    await harness.supervisor.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(isAlive(pid)).toBe(false);
    expect(eventsOf(harness, 'exited')[0]).toMatchObject({ signal: 'SIGKILL', restartInMs: null });
  });

  it('does not take another process answering on the port for its child', async () => {
    const entry = await fakeEntry('squatted');
    const port = Number(new URL(entry.healthUrl).port);
    const squatter = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pid: 1 }));
    });
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const harness = supervise([entry], { restart: { initialMs: 5000 } });
      await waitFor('the warning', () => eventsOf(harness, 'foreign-health').length > 0);
      expect(harness.lines.join('\n')).toContain('is answered by pid 1, not by squatted');
      expect(eventsOf(harness, 'up')).toHaveLength(0);
      await harness.supervisor.stop();
    } finally {
      squatter.close();
    }
  });
});
