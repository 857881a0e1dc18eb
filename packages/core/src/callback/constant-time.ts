/**
 * Constant-time string equality for secrets compared against request input (`state`): the time
 * taken depends only on the lengths, never on where the first difference is.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  // Compare over the longer length so a short guess costs as much as a full one.
  const length = Math.max(left.length, right.length);
  let difference = left.length ^ right.length;
  for (let i = 0; i < length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}
