/** on-headers 1.1 ships no types: a listener run just before the response writes its headers. */
declare module 'on-headers' {
  import type { ServerResponse } from 'node:http';
  export default function onHeaders<T extends ServerResponse>(res: T, listener: (this: T) => void): void;
}
