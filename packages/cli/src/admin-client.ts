/**
 * Commands that act (rebuild, pause, redrive, discard) go through a running service's
 * `@causeway/admin` API, because they need the service's own consumers, orchestrator and
 * projections, and so do those that read what only its process holds (`cache stats`): `--url`
 * names the service (e.g. http://127.0.0.1:3007), `--base-path` where it mounted the package
 * (default /causeway), `--token` (CAUSEWAY_TOKEN) the bearer token it asks for.
 * Each failure says what to pass or start.
 */
import { CannotOpenError } from './open-database.ts';

/** The service answered with a refusal or a problem: its own words, and the exit code 1. */
export class ServiceRefusedError extends Error {
  override name = 'ServiceRefusedError';
}

export interface AdminTarget {
  url?: string;
  token?: string;
  basePath?: string;
}

export async function adminCall<T>(
  target: AdminTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
): Promise<T> {
  if (!target.url) {
    throw new CannotOpenError(
      'Say which service: --url <its admin address>, e.g. --url http://127.0.0.1:3007 (or CAUSEWAY_URL)',
    );
  }
  const base = (target.basePath ?? '/causeway').replace(/^\/+|\/+$/g, '');
  const url = new URL(
    `${base ? `${base}/` : ''}api/${path}`,
    target.url.endsWith('/') ? target.url : `${target.url}/`,
  );
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const { cause } = error as { cause?: { code?: string; message?: string } };
    const why = cause?.code ?? cause?.message ?? String(error);
    throw new CannotOpenError(
      `No service answers at ${target.url} (${why}): start it, or pass the --url of a running one`,
    );
  }
  const text = await response.text();
  const body = text ? parseJson(text) : null;
  if (response.status === 401 || response.status === 403) {
    throw new ServiceRefusedError(
      `${url.pathname}: ${detailOf(body) ?? response.statusText} (pass --token or CAUSEWAY_TOKEN: the read token to look, the admin token to act)`,
    );
  }
  if (response.status === 404) {
    throw new ServiceRefusedError(
      `${url.pathname}: ${detailOf(body) ?? 'not found'} (is --url the right service, and --base-path where it mounted @causeway/admin?)`,
    );
  }
  if (!response.ok) {
    throw new ServiceRefusedError(
      `${url.pathname}: ${detailOf(body) ?? `${response.status} ${response.statusText}`}`,
    );
  }
  return body as T;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function detailOf(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null) {
    const { detail, title } = body as { detail?: unknown; title?: unknown };
    if (typeof detail === 'string') return detail;
    if (typeof title === 'string') return title;
  }
  return typeof body === 'string' && body.length > 0 ? body : undefined;
}
