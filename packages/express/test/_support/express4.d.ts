/** `express4` is `npm:express@4`, installed beside Express 5 to test the peer range; its API is typed as Express's. */
declare module 'express4' {
  import type express from 'express';
  const express4: typeof express;
  export default express4;
}
