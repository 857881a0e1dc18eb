/** Small time helpers shared by the transport and the caches. Never exported from the package. */

/** Whole seconds since the epoch for a millisecond clock reading. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Resolves after `ms` milliseconds (0 or less resolves on the next macrotask). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Clamp `value` into [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
