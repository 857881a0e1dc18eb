/**
 * The dedicated LISTEN connection. A pooled connection cannot hold LISTEN (the pool hands it to
 * other queries and may close it), so this is its own `pg.Client`, configured like the pool.
 *
 * When it drops (Postgres restarted, network cut, a failed ping) the store keeps serving its
 * snapshot and this reconnects with capped exponential backoff and jitter; every reconnect is
 * followed by a full reload, because notifications sent while nobody listened are lost
 * (PostgreSQL docs, NOTIFY: they go only to sessions listening at commit time).
 */
import { Client, type ClientConfig } from 'pg';
import { toStoreError } from './errors';
import type { OidcError } from './internal';

export interface ListenerOptions {
  config: ClientConfig;
  channel: string;
  timeoutMs: number;
  pingIntervalMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  onNotify(payload: string): void;
  /** Called after LISTEN succeeded; reconnect: true after a drop. A rejection counts as a failed attempt. */
  onListening(reconnect: boolean): Promise<void>;
  onLost(error: OidcError | undefined, since: number): void;
  onAttemptFailed(error: OidcError, attempt: number, retryInMs: number, since: number): void;
  onRecovered(downMs: number, attempts: number): void;
}

export class Listener {
  readonly #options: ListenerOptions;
  #client: Client | undefined;
  #closed = false;
  #lostAt: number | undefined;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(options: ListenerOptions) {
    this.#options = options;
  }

  /** True while LISTEN is established. */
  get listening(): boolean {
    return this.#client !== undefined && this.#lostAt === undefined;
  }

  /** When the connection was lost (epoch ms), or undefined while listening. */
  get lostAt(): number | undefined {
    return this.#lostAt;
  }

  /** First connection: throws (typed) when it cannot listen, so a store never starts half-working. */
  async start(): Promise<void> {
    await this.#connect(false);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client) await endQuietly(client, this.#options.timeoutMs);
  }

  async #connect(reconnect: boolean): Promise<void> {
    const { config, channel, timeoutMs } = this.#options;
    const client = new Client({ ...config, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, keepAlive: true });
    // Until LISTEN and the reload are done the client is a candidate: a drop then fails this
    // attempt (and the caller retries); after that a drop starts the reconnect cycle.
    let candidate = true;
    let droppedEarly: unknown;
    const onDown = (error: unknown) => {
      if (candidate) droppedEarly ??= error ?? new Error('Connection terminated');
      else this.#drop(client, error);
    };
    // Registered before connect(): a socket error with no 'error' listener would crash the process.
    client.on('error', onDown);
    client.on('end', () => onDown(undefined));
    client.on('notification', (message) => {
      // Notifications that arrive during the reload are kept: they queue per-tenant reloads after it.
      if ((candidate || client === this.#client) && !this.#closed && message.channel === channel && message.payload !== undefined) {
        this.#options.onNotify(message.payload);
      }
    });
    try {
      await client.connect();
      if (!this.#closed) {
        await client.query(`LISTEN "${channel}"`);
        await this.#options.onListening(reconnect);
      }
      if (droppedEarly !== undefined) throw droppedEarly;
    } catch (error) {
      candidate = false;
      await endQuietly(client, timeoutMs);
      throw toStoreError(error, reconnect ? 'reconnecting the LISTEN connection' : 'LISTEN');
    }
    candidate = false;
    if (this.#closed) {
      await endQuietly(client, timeoutMs);
      return;
    }
    this.#client = client;
    clearInterval(this.#pingTimer);
    // A half-open TCP connection (peer gone without RST) raises no error by itself: ping it.
    this.#pingTimer = setInterval(() => {
      if (this.#client !== client) return;
      client.query('SELECT 1').catch((error: unknown) => this.#drop(client, error));
    }, this.#options.pingIntervalMs);
    this.#pingTimer.unref();
  }

  #drop(client: Client, error: unknown): void {
    if (this.#closed || client !== this.#client) return;
    this.#client = undefined;
    clearInterval(this.#pingTimer);
    void endQuietly(client, this.#options.timeoutMs);
    this.#lostAt = Date.now();
    this.#attempt = 0;
    this.#options.onLost(error === undefined ? undefined : toStoreError(error, 'LISTEN'), this.#lostAt);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    const { minDelayMs, maxDelayMs } = this.#options;
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** this.#attempt);
    // Full jitter on the upper half: processes restarted together do not reconnect in lockstep.
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.#attempt++;
    this.#retryTimer = setTimeout(() => void this.#retry(delay), delay);
    this.#retryTimer.unref();
  }

  async #retry(lastDelay: number): Promise<void> {
    if (this.#closed) return;
    const since = this.#lostAt ?? Date.now();
    try {
      // The snapshot is still marked stale while the full reload runs (onListening).
      await this.#connect(true);
    } catch (error) {
      if (this.#closed) return;
      const next = Math.min(this.#options.maxDelayMs, this.#options.minDelayMs * 2 ** this.#attempt);
      this.#options.onAttemptFailed(error as OidcError, this.#attempt, Math.max(next, lastDelay), since);
      this.#schedule();
      return;
    }
    if (this.#closed) return;
    const attempts = this.#attempt;
    this.#lostAt = undefined;
    this.#attempt = 0;
    this.#options.onRecovered(Date.now() - since, attempts);
  }
}

async function endQuietly(client: Client, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.end(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } catch {
    // already broken: nothing to close
  } finally {
    clearTimeout(timer);
  }
}
