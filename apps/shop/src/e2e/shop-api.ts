/** The tests' HTTP client for a running shop's gateway: JSON in, status, JSON body and headers out. */

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, checked field by field by the assertions
  body: any;
  headers: Headers;
}

/** A shop API client, as `shopApi` makes one. */
export type ShopApi = ReturnType<typeof shopApi>;

/** Calls `baseUrl()` + path; a string body is sent as it is (for malformed JSON), anything else as JSON. */
export function shopApi(baseUrl: () => string, options: { timeoutMs?: number } = {}) {
  return async function api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  };
}
