import { connect } from 'node:net';

/** The names an environment variable picks (comma-separated) among `all`; all of them when unset. */
export function chosenFrom<Name extends string>(variable: string, all: readonly Name[]): Name[] {
  const chosen = process.env[variable]?.split(',').map((name) => name.trim());
  if (!chosen) return [...all];
  const unknown = chosen.filter((name) => !all.includes(name as Name));
  if (unknown.length > 0)
    throw new Error(`${variable}: unknown ${unknown.join(', ')}; choose from ${all.join(', ')}`);
  return chosen as Name[];
}

/** True when a TCP connection to the URL's host and port opens within a second. */
export function isListening(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) || defaultPort });
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
