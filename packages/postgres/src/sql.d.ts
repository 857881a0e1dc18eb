/** Migration files are bundled as text (tsup `loader: { '.sql': 'text' }`, a vitest transform in tests). */
declare module '*.sql' {
  const text: string;
  export default text;
}
