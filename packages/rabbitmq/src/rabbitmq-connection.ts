import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  connect,
  type RecoveringChannelModel,
} from 'amqplib';
import { RabbitMqUnavailableError } from './rabbitmq-errors.ts';

/** One connection to the broker that reconnects by itself, with exponential backoff and jitter. */
export interface RabbitMqConnection {
  /** A fresh channel on the live connection; waits up to `connectTimeoutMs` for a (re)connect. */
  createChannel(): Promise<Channel>;
  createConfirmChannel(): Promise<ConfirmChannel>;
  close(): Promise<void>;
}

export interface RabbitMqConnectionOptions {
  url: string;
  connectTimeoutMs: number;
  /** Runs after every (re)connect, before channels are handed out (declares the topology). */
  setup: (channel: Channel) => Promise<void>;
}

/**
 * Opens the connection in the background: the transport factory stays synchronous and a broker
 * that is down at start-up is retried forever, while each operation waits only a bounded time.
 */
export function openRabbitMqConnection(options: RabbitMqConnectionOptions): RabbitMqConnection {
  let lastError: unknown;
  const opening = connect(options.url, {
    // Small frames (one confirm, one ack) must not wait for Nagle's algorithm: with the peer's
    // delayed ACK that added tens of milliseconds to a lone message's way.
    noDelay: true,
    recovery: {
      waitForConnect: false,
      initialDelay: 100,
      maxDelay: 5000,
      async setup(model: ChannelModel) {
        const channel = await model.createChannel();
        await options.setup(channel);
        await channel.close();
      },
    },
  });
  opening
    .then((connection) => observe(connection, (error) => (lastError = error)))
    .catch((error) => (lastError = error));

  function withTimeout<T extends Channel>(create: (connection: RecoveringChannelModel) => Promise<T>) {
    return async (): Promise<T> => {
      const connection = await opening;
      const creating = create(connection);
      const result = await raceTimeout(creating, options.connectTimeoutMs);
      if (result !== undefined) return result;
      // The channel may still open later: close it then, nobody is waiting for it.
      creating.then((channel) => channel.close()).catch(() => {});
      throw new RabbitMqUnavailableError(
        `no connection to ${redact(options.url)} within ${options.connectTimeoutMs} ms (last error: ${describe(lastError)}); is the broker running? ${lastError === undefined ? stalledHint : ''}`,
        lastError,
      );
    };
  }

  return {
    createChannel: withTimeout((connection) => connection.createChannel()),
    createConfirmChannel: withTimeout((connection) => connection.createConfirmChannel()),
    async close() {
      const connection = await opening.catch(() => undefined);
      await connection?.close();
    },
  };
}

// A broker out of file handles accepts the TCP connection and never answers, so no error arrives.
const stalledHint =
  'A broker that accepts connections but never answers may be at its open-files limit (rabbitmq-diagnostics status, "File Descriptors").';

function observe(connection: RecoveringChannelModel, onError: (error: unknown) => void): void {
  // Without an 'error' listener an EventEmitter throws; the reasons are kept for error messages.
  connection.on('error', onError);
  connection.on('connect-failed', onError);
  connection.on('disconnect', onError);
}

async function raceTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for error messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : error === undefined ? 'none' : String(error);
}
