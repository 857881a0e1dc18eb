/** A real server process started by a test (see `@oin-oidc/testing/servers`). */
export interface RunningServer {
  /** `redis://127.0.0.1:PORT` or `postgres://oin:oin@127.0.0.1:PORT/oin`. */
  url: string;
  host: '127.0.0.1';
  port: number;
  /** The PID of the server process (the postmaster for PostgreSQL); changes on restart(). */
  pid: number;
  /** Graceful shutdown; waits for the process to exit, then removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL (to the whole process group); waits for exit; keeps the data dir (a crash). */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port and data dir (after kill() or a crash; a still
   * running server is SIGKILLed first). Resolves when it accepts connections.
   */
  restart(): Promise<void>;
}
