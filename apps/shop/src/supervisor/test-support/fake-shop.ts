/**
 * A supervisor process like `npm start`, but over fake services: used to test that SIGINT and
 * SIGTERM stop every child and exit 0. Usage: fake-shop <dataDir> <port> <port>...
 * Prints `ready` once all children answer their health check.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopOnSignals } from '../stop-on-signals.ts';
import { Supervisor } from '../supervisor.ts';

const [dataDir, ...ports] = process.argv.slice(2);
if (!dataDir || ports.length === 0) throw new Error('usage: fake-shop <dataDir> <port>...');
const script = fileURLToPath(new URL('./fake-service.ts', import.meta.url));
const supervisor = new Supervisor({
  services: ports.map((port, index) => ({
    name: `fake${index}`,
    script,
    env: { ...(process.env as Record<string, string>), PORT: port, SHOP_SERVICE: `fake${index}` },
    healthUrl: `http://127.0.0.1:${port}/admin/health`,
  })),
  statusFile: join(dataDir, 'supervisor.json'),
  logDir: join(dataDir, 'logs'),
  healthIntervalMs: 50,
});
stopOnSignals(supervisor);
supervisor.start();
await supervisor.whenAllUp();
console.log('ready');
