/**
 * A stand-in for a shop service in the supervisor tests: serves GET /admin/health on PORT like
 * the real ones. FAKE_CRASH_AFTER_MS: exit with code 1 that long after listening.
 * FAKE_FAIL_AT_START=<message>: throw an Error with that message before listening, as a service
 * with a bad configuration does. FAKE_FAIL_AFTER_FIRST_RUN=<file>: the first run creates the file
 * and starts normally, every later one fails at start.
 * FAKE_IGNORE_SIGTERM=1: survive SIGTERM (only SIGKILL stops it). Otherwise SIGTERM exits 0.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const service = process.env.SHOP_SERVICE ?? 'fake';

const firstRunMarker = process.env.FAKE_FAIL_AFTER_FIRST_RUN;
if (firstRunMarker !== undefined) {
  if (existsSync(firstRunMarker)) throw new Error(`${service}: not the first run`);
  writeFileSync(firstRunMarker, String(process.pid));
}
const failure = process.env.FAKE_FAIL_AT_START;
if (failure !== undefined) throw new Error(`${service}: ${failure}`);

const server = createServer((request, response) => {
  if (request.url === '/admin/health') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ service, status: 'up', pid: process.pid }));
  } else {
    response.writeHead(404).end();
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`${service} listening on ${port}`);
  const crashAfterMs = process.env.FAKE_CRASH_AFTER_MS;
  if (crashAfterMs !== undefined) {
    setTimeout(() => {
      console.error(`${service}: simulated crash`);
      process.exit(1);
    }, Number(crashAfterMs));
  }
});
server.on('error', (error) => {
  console.error(`${service}: ${error.message}`);
  process.exit(1);
});

process.on('SIGTERM', () => {
  if (process.env.FAKE_IGNORE_SIGTERM === '1') return;
  server.close();
  process.exit(0);
});
