/** Calls to the services' internal APIs (from the gateway, or one service to another), each with its own timeout. */
import { portOf, type ShopConfig } from '../config.ts';
import { UnavailableError } from './problem.ts';

export interface ServiceAnswer {
  status: number;
  body: unknown;
  headers: Headers;
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

export function createServiceClient(config: ShopConfig) {
  return async function call(
    service: string,
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<ServiceAnswer> {
    const url = `http://127.0.0.1:${portOf(config, service)}${path}`;
    try {
      const response = await fetch(url, {
        method,
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    } catch (error) {
      throw new ServiceDownError(service, error);
    }
  };
}

export type ServiceClient = ReturnType<typeof createServiceClient>;
