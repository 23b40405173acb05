/**
 * Calls to the services' internal APIs (from the gateway, or one service to another), each with its
 * own timeout. A service run as several processes (SHOP_INSTANCES) gets its calls in turn, and a
 * call moves on to the next process when this one cannot have handled it: any failure of a read
 * (GET, HEAD), or a refused connection for a write. A write that failed after it was sent is not
 * sent again: the service may have acted on it, and its caller decides (an Idempotency-Key makes
 * a retry safe).
 */
import { Agent, request } from 'undici';
import { portOf, portsOf, type ShopConfig } from '../config.ts';
import { ownReadAuthorization } from './admin-guard.ts';
import { tracedCall } from './http-tracing.ts';
import { UnavailableError } from './problem.ts';

export interface ServiceAnswer {
  status: number;
  body: unknown;
  /** The answer's headers by name (`fetch`'s `Headers` fits). */
  headers: { get(name: string): string | null };
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Per process tried (default 10 s). */
  timeoutMs?: number;
}

/** A service behind the gateway did not answer: 503, try again. */
export class ServiceDownError extends UnavailableError {
  constructor(
    readonly service: string,
    cause: unknown,
  ) {
    super(
      `The ${service} service did not answer (${cause instanceof Error ? cause.message : String(cause)}); try again shortly`,
    );
    this.name = 'ServiceDownError';
  }
}

const idempotentMethods = new Set(['GET', 'HEAD']);

/** Whether a failed call may go to another process: a read always, a write only if it never arrived. */
function mayTryAnother(method: string, error: unknown): boolean {
  if (idempotentMethods.has(method.toUpperCase())) return true;
  return (error as { code?: string }).code === 'ECONNREFUSED';
}

/**
 * Every call of this process goes through one keep-alive pool per service process. undici's
 * `request` rather than the global `fetch`: the gateway's profile under load put 15% of its CPU in
 * fetch's WHATWG layers (streams, Headers, an AbortSignal per call) for these small JSON calls.
 */
const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 32 });

/** Headers as undici gives them (lower-case names; a repeated one as an array), read by name. */
function headerReader(headers: Record<string, string | string[] | undefined>): ServiceAnswer['headers'] {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Admin reads and metrics, which another process answers only with a token outside dev mode. */
const isAdminRead = (path: string) => path.startsWith('/admin/') || path === '/metrics';

async function send(
  service: string,
  port: number,
  method: string,
  path: string,
  options: CallOptions & { ownHeaders?: Record<string, string> },
): Promise<ServiceAnswer> {
  return tracedCall(service, method, path, async (traceHeaders) => {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const response = await request(`http://127.0.0.1:${port}${path}`, {
      dispatcher,
      method: method as 'GET',
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...traceHeaders,
        ...(isAdminRead(path) ? options.ownHeaders : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      // The answer's head, then its body, each within the time allowed.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      body: text ? JSON.parse(text) : null,
      headers: headerReader(response.headers),
    };
  });
}

export function createServiceClient(config: ShopConfig) {
  const turns = new Map<string, number>();
  // The caller's own Authorization header (an action passed on) wins over this process's token.
  const ownHeaders = ownReadAuthorization(config);

  async function call(
    service: string,
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<ServiceAnswer> {
    const ports = portsOf(config, service);
    const first = turns.get(service) ?? 0;
    turns.set(service, (first + 1) % ports.length);
    let failure: unknown;
    for (let tried = 0; tried < ports.length; tried++) {
      try {
        return await send(service, ports[(first + tried) % ports.length]!, method, path, {
          ...options,
          ownHeaders,
        });
      } catch (error) {
        failure = error;
        if (!mayTryAnother(method, error)) break;
      }
    }
    throw new ServiceDownError(service, failure);
  }

  /** The same call to one process of the service (its health, say), with no other tried. */
  async function callInstance(
    service: string,
    instance: number,
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<ServiceAnswer> {
    try {
      return await send(service, portOf(config, service, instance), method, path, { ...options, ownHeaders });
    } catch (error) {
      throw new ServiceDownError(service, error);
    }
  }

  return Object.assign(call, { instance: callInstance });
}

export type ServiceClient = ReturnType<typeof createServiceClient>;
