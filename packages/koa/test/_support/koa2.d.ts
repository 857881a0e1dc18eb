/** `koa2` is `npm:koa@2`, installed beside Koa 3 to test the peer range; its API is typed as Koa's. */
declare module 'koa2' {
  import type Koa from 'koa';
  const Koa2: typeof Koa;
  export default Koa2;
}
