/** One GET of a child's health endpoint. */
import { request } from 'node:http';

export interface HealthAnswer {
  ok: boolean;
  /** The pid the endpoint reports, when it does: tells our child from a stray process on the port. */
  pid?: number;
}

export function probeHealth(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 1000,
): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    // agent: false: no pooled keep-alive sockets that would outlive the supervisor's work.
    const call = request(url, { method: 'GET', headers, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => resolve({ ok: false }));
      response.on('end', () => {
        if (response.statusCode !== 200) return resolve({ ok: false });
        resolve({ ok: true, pid: reportedPid(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    call.on('timeout', () => call.destroy(new Error('health check timed out')));
    call.on('error', () => resolve({ ok: false }));
    call.end();
  });
}

function reportedPid(body: string): number | undefined {
  try {
    const pid = (JSON.parse(body) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}
