/**
 * Terminal I/O for the CLI: where output goes, whether it may be coloured, a progress line, and
 * the last line of defence for secrets. Every byte the CLI writes passes through {@link Output},
 * which replaces any registered secret (client secrets, private key members, the database
 * password, encryption keys) with `[redacted]` — so a secret can reach stdout or stderr only if
 * it was never registered, not merely because some message quoted it (catalogue LG-01).
 */

/** Streams and environment the CLI runs against (the real process by default; tests spawn the bin). */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: Record<string, string | undefined>;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** Shorter values are not registered: redacting "a" or "ok" would shred every line without protecting anything. */
const MIN_SECRET_LENGTH = 4;
const REDACTED = '[redacted]';

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m' } as const;
export type Style = Exclude<keyof typeof ANSI, 'reset'>;

/**
 * Colour is for people: on only when stdout is a terminal, unless `NO_COLOR` (no-color.org) or
 * `--no-color` turns it off; `FORCE_COLOR` (the chalk / Node convention) turns it on for a pager
 * that understands ANSI (`| less -R`).
 */
export function colourWanted(io: CliIo, flag: boolean): boolean {
  if (!flag) return false;
  const force = io.env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  return io.stdout.isTTY === true;
}

/** All CLI output. `colour` and progress are decided once per run, see {@link colourWanted}. */
export class Output {
  readonly #io: CliIo;
  readonly #secrets = new Set<string>();
  #colour = false;
  #progressShown = false;

  constructor(io: CliIo) {
    this.#io = io;
  }

  get io(): CliIo {
    return this.#io;
  }

  get colour(): boolean {
    return this.#colour;
  }

  set colour(on: boolean) {
    this.#colour = on;
  }

  /** A progress line is drawn only where a person watches both streams; never in pipes or CI logs. */
  get interactive(): boolean {
    return this.#io.stdout.isTTY === true && this.#io.stderr.isTTY === true;
  }

  /** Never print `value` (nor, for a URL, its password). Call as soon as a secret is read. */
  secret(value: string | undefined | null): void {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) this.#secrets.add(value);
  }

  /** Registers every secret member of a tenant record or Tenant (secrets, private JWK members). */
  secretsOf(record: unknown): void {
    if (typeof record !== 'object' || record === null) return;
    const r = record as Record<string, unknown>;
    if (typeof r['clientSecret'] === 'string') this.secret(r['clientSecret']);
    for (const list of [r['clientSecrets'], (r['auth'] as Record<string, unknown> | undefined)?.['secrets']]) {
      if (Array.isArray(list)) for (const s of list) this.secret((s as { value?: unknown })?.value as string);
    }
    for (const jwk of [r['privateJwk'], (r['auth'] as Record<string, unknown> | undefined)?.['privateJwk']]) {
      if (typeof jwk === 'object' && jwk !== null) {
        // RFC 7518 §6.3.2 (RSA) and §6.2.2 (EC) private members, §6.4.1 (oct).
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) this.secret((jwk as Record<string, unknown>)[member] as string);
      }
    }
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.#secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    return result;
  }

  paint(text: string, ...styles: Style[]): string {
    if (!this.#colour || styles.length === 0) return text;
    return `${styles.map((s) => ANSI[s]).join('')}${text}${ANSI.reset}`;
  }

  /** One line (or block) to stdout. */
  out(text: string): void {
    this.clearProgress();
    this.#io.stdout.write(`${this.redact(text)}\n`);
  }

  /** Raw stdout (commander's help), redacted. */
  writeOut(text: string): void {
    this.clearProgress();
    this.#io.stdout.write(this.redact(text));
  }

  /** Diagnostics to stderr. */
  err(text: string): void {
    this.clearProgress();
    this.#io.stderr.write(`${this.redact(text)}\n`);
  }

  writeErr(text: string): void {
    this.clearProgress();
    this.#io.stderr.write(this.redact(text));
  }

  /** Redraws the single progress line on stderr (interactive runs only). */
  progress(text: string): void {
    if (!this.interactive) return;
    this.#io.stderr.write(`\r\u001b[2K${this.redact(text)}`);
    this.#progressShown = true;
  }

  clearProgress(): void {
    if (!this.#progressShown) return;
    this.#io.stderr.write('\r\u001b[2K');
    this.#progressShown = false;
  }
}

/** At most this much from stdin or a file: a tenant record is a few KB, a tenants file a few MB. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** All of stdin as UTF-8 (for `--file -` and piped secrets). */
export async function readAll(stream: NodeJS.ReadableStream, limit = MAX_INPUT_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > limit) throw new InputTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class InputTooLarge extends Error {
  constructor() {
    super(`input is larger than ${MAX_INPUT_BYTES} bytes`);
    this.name = 'InputTooLarge';
  }
}

/**
 * One line typed at a terminal without echoing it (the secret prompt of `rotate-secret`): raw
 * mode, so the characters never reach the screen, scrollback or a screen recorder.
 */
export async function readHiddenLine(io: CliIo, prompt: string, output: Output): Promise<string> {
  const stdin = io.stdin;
  if (typeof stdin.setRawMode !== 'function') return (await readAll(stdin)).split(/\r?\n/)[0] ?? '';
  output.writeErr(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const onData = (chunk: Buffer | string) => {
        for (const char of chunk.toString()) {
          if (char === '\r' || char === '\n') {
            done();
            resolve(line);
            return;
          }
          if (char === '\u0003' || char === '\u0004') {
            done();
            reject(new PromptAborted());
            return;
          }
          if (char === '\u007f' || char === '\b') line = line.slice(0, -1);
          else line += char;
        }
      };
      const done = () => stdin.off('data', onData);
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write('\n');
  }
}

export class PromptAborted extends Error {
  constructor() {
    super('aborted at the prompt');
    this.name = 'PromptAborted';
  }
}
