/**
 * Waiting on an outcome instead of polling for it on a deadline: a test calls `notify()` from the
 * callback that reports progress (an `onJwks` event, a request reaching a local server), and awaits
 * `until(check)`, which settles as soon as `check()` holds. Nothing here measures time, so a loaded
 * machine only makes a test slower, never red; a change that never comes is caught by the test's
 * own timeout (vitest `testTimeout`).
 */
export interface Signal {
  /** Something changed: re-run the pending checks. */
  notify(): void;
  /** Resolves once `check()` is true (at once when it already is); rejects if `check` throws. */
  until(check: () => boolean): Promise<void>;
}

export function createSignal(): Signal {
  const pending = new Set<() => boolean>();
  return {
    notify() {
      for (const attempt of [...pending]) if (attempt()) pending.delete(attempt);
    },
    until(check) {
      return new Promise<void>((resolve, reject) => {
        const attempt = (): boolean => {
          try {
            if (!check()) return false;
            resolve();
          } catch (error) {
            reject(error);
          }
          return true;
        };
        if (!attempt()) pending.add(attempt);
      });
    },
  };
}
