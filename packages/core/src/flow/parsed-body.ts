/** An auth route's body when a framework's body parser already ran. */

/**
 * The raw text core reads from the body a framework's parser left: a string as it is, a parsed
 * form's object re-encoded as `application/x-www-form-urlencoded` (repeated names kept repeated,
 * so core still refuses duplicate parameters, RFC 6749 §3.1), anything else `''`.
 *
 * @example
 * ```ts
 * fromHeaderMap({ ...init, readBody: async () => parsedBodyText(request.body) });
 * ```
 */
export function parsedBodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body === null || typeof body !== 'object') return '';
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, String(item));
  }
  return form.toString();
}
