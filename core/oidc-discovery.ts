import { isJsonObject } from './json';
import { httpsUrlProblem } from './url';

/**
 * OpenID Connect discovery, the document side, for every reader of it: the authorizer's
 * resolver of key set URLs (`functions/authorizer/discovery.ts`), its key store's fallback
 * source (`key-store.ts`), the rotation audit (`audit.ts`) and the stack's mirror settings.
 */

/** The path of an OpenID Connect discovery document below its issuer (OIDC Discovery 1.0 §4; see {@link discoveryUrl}). */
export const DISCOVERY_SUFFIX = '/.well-known/openid-configuration';

/**
 * The OpenID Connect discovery document of an issuer (OIDC Discovery §4.1): the issuer with
 * any trailing `/` removed, then `/.well-known/openid-configuration`.
 */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}${DISCOVERY_SUFFIX}`;
}

/**
 * The `jwks_uri` of a discovery document, after the checks OIDC Discovery §4.3 asks for: the
 * document's `issuer` must be identical to the configured issuer (otherwise a document served
 * at that address could point the authorizer at someone else's keys), and the key set must
 * be an https URL. Throws an `Error` that says which check failed.
 */
export function jwksUriFromDiscovery(document: unknown, issuer: string): string {
  if (!isJsonObject(document)) throw new Error('the discovery document is not a JSON object');
  const doc = document;
  if (doc.issuer !== issuer) {
    throw new Error(`the discovery document names issuer ${JSON.stringify(doc.issuer).slice(0, 200)}, not ${issuer}`);
  }
  const jwksUri = doc.jwks_uri;
  if (typeof jwksUri !== 'string') throw new Error('the discovery document has no jwks_uri');
  const problem = httpsUrlProblem(jwksUri);
  if (problem !== undefined) throw new Error(`jwks_uri ${problem}`);
  return jwksUri;
}
