/**
 * The adapter conformance harness's unhandled-error rule: a case fails, named, when an unhandled
 * error or rejection is raised while it runs. The tracker is driven directly here (a real unhandled
 * rejection would also fail this run through vitest's own handler).
 */
import { describe, expect, it } from 'vitest';
import { trackUnhandledErrors } from '../src/conformance/harness';
import { OPEN_REDIRECT_PAYLOADS } from '../src/index';

describe('conformance harness: unhandled errors', () => {
  it('listens for uncaught exceptions and unhandled rejections only while installed', () => {
    const tracker = trackUnhandledErrors();
    tracker.install();
    try {
      expect(process.listeners('unhandledRejection')).toContain(tracker.record);
      expect(process.listeners('uncaughtException')).toContain(tracker.record);
    } finally {
      tracker.uninstall();
    }
    expect(process.listeners('unhandledRejection')).not.toContain(tracker.record);
    expect(process.listeners('uncaughtException')).not.toContain(tracker.record);
  });

  it('fails the check naming the case and every error recorded while it ran, then starts afresh', () => {
    const tracker = trackUnhandledErrors();
    tracker.check('a quiet case (express)');
    tracker.record(new TypeError('socket hang up'));
    tracker.record('a rejected string');
    expect(() => tracker.check('CB-01: state mismatch (express)')).toThrow(
      /^2 unhandled error\(s\) while "CB-01: state mismatch \(express\)" ran: TypeError: socket hang up; a rejected string$/,
    );
    expect(() => tracker.check('the next case (express)')).not.toThrow();
  });

  it('forgets what an earlier case left once reset', () => {
    const tracker = trackUnhandledErrors();
    tracker.record(new Error('left over'));
    tracker.reset();
    expect(() => tracker.check('a later case (koa)')).not.toThrow();
  });
});

describe('OPEN_REDIRECT_PAYLOADS', () => {
  it('is exported from the package entry, without duplicates, and every payload is hostile by construction', () => {
    expect(OPEN_REDIRECT_PAYLOADS.length).toBeGreaterThanOrEqual(26);
    expect(new Set(OPEN_REDIRECT_PAYLOADS).size).toBe(OPEN_REDIRECT_PAYLOADS.length);
    // Each names another host, a script or data URL, or a header break: never a plain same-origin path.
    for (const payload of OPEN_REDIRECT_PAYLOADS) expect(payload, payload).toMatch(/evil\.com|javascript|script|%0d%0a/i);
  });
});
