/** The dashboard's files, read from the package's `dashboard/` folder (beside `src/` and `dist/`). */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { sendProblem } from './http-answers.ts';

const folder = new URL('../dashboard/', import.meta.url);
// The page, and the view modules any page may import from `<base>/<file>` (docs/operations.md).
const names = [
  'dashboard.js',
  'dashboard.css',
  'dom.js',
  'views.css',
  'saga-diagram.js',
  'saga-table.js',
  'dead-letter-table.js',
  'event-table.js',
  'outbox-backlog.js',
  'projection-status.js',
  'waterfall.js',
  'waterfall.css',
];
const files: Record<string, string> = {
  '/': 'index.html',
  ...Object.fromEntries(names.map((name) => [`/${name}`, name])),
};
const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export async function serveDashboardFile(
  path: string,
  base: string,
  response: ServerResponse,
): Promise<void> {
  const file = files[path];
  if (!file) {
    sendProblem(response, { title: 'Not found', status: 404, detail: `No page ${base}${path}` });
    return;
  }
  let text = await readFile(new URL(file, folder), 'utf8');
  // The page finds its API and files wherever the service mounted it.
  if (file === 'index.html') text = text.replaceAll('%BASE%', base);
  response.writeHead(200, { 'content-type': types[file.split('.').pop()!]!, 'cache-control': 'no-cache' });
  response.end(text);
}
