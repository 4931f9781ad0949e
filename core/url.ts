/**
 * Why `text` is not an absolute `https:` URL (`is not a URL: "…"`, `must be an https URL,
 * got http:`), or `undefined` when it is one. The one https rule of configured URLs and of
 * the `jwks_uri` a discovery document names: keys come over TLS only.
 */
export function httpsUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `is not a URL: ${JSON.stringify(text).slice(0, 200)}`;
  }
  return url.protocol === 'https:' ? undefined : `must be an https URL, got ${url.protocol}`;
}
