/** Every process of a running shop as its GET /health lists them (a service run several times lists each under `instances`). */
import { instanceName } from '../config.ts';

export interface ProcessHealth {
  status: string;
  pid: number;
  url: string;
}

export type ServicesHealth = Record<string, ProcessHealth & { instances?: ProcessHealth[] }>;

/** Named as the supervisor names them: `orders`, then `orders-2`... */
export function processesOf(
  services: ServicesHealth,
): Array<ProcessHealth & { name: string; service: string }> {
  return Object.entries(services).flatMap(([service, health]) =>
    (health.instances ?? [health]).map((each, instance) => ({
      ...each,
      service,
      name: instanceName(service, instance),
    })),
  );
}
