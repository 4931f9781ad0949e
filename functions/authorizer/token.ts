import { AUTHORIZATION_CREDENTIALS } from '../../core/authorization';
import { InvalidTokenError } from '../../core/errors';
import { isJsonObject } from '../../core/json';
import { Reason } from '../../core/reasons';

/**
 * A compact JWS split into its parts, header and payload parsed but not trusted: the shape
 * of aws-jwt-verify's `DecomposedJwt`, which verifies it without decoding it again.
 */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  headerB64: string;
  payloadB64: string;
  signatureB64: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Take the scheme and token out of an Authorization value: `Bearer` or `DPoP` (RFC 9449),
 * any case. The length cap is checked first, before any parsing.
 */
export function extractCredentials(value: string | undefined, maxBytes: number): { scheme: 'bearer' | 'dpop'; token: string } {
  if (value === undefined || value.trim().length === 0) throw new InvalidTokenError(Reason.Missing, 'no Authorization value');
  if (value.length > maxBytes || Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw new InvalidTokenError(Reason.TooLarge, `Authorization value over ${maxBytes} bytes`);
  }
  const match = AUTHORIZATION_CREDENTIALS.exec(value);
  if (match === null) {
    const scheme = (/^\S+/.exec(value.trim())?.[0] ?? '').toLowerCase();
    if (scheme !== 'bearer' && scheme !== 'dpop') throw new InvalidTokenError(Reason.Scheme, 'the Authorization scheme is not Bearer');
    throw new InvalidTokenError(Reason.Malformed, 'the Bearer value is not one token');
  }
  return { scheme: (match[1] as string).toLowerCase() as 'bearer' | 'dpop', token: match[2] as string };
}

function decodePart(part: string, what: string): Record<string, unknown> {
  // Strict base64url: Node's decoder would skip stray characters and accept padding.
  if (!BASE64URL.test(part) || part.length % 4 === 1) {
    throw new InvalidTokenError(Reason.Malformed, `the ${what} is not base64url`);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(Reason.Malformed, `the ${what} is not JSON`);
  }
  if (!isJsonObject(value)) throw new InvalidTokenError(Reason.Malformed, `the ${what} is not a JSON object`);
  return value;
}

/** Whether a bearer value has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every((p) => BASE64URL.test(p));
}

/** Split and parse a compact JWS without verifying it. JWE (five parts) and unsigned JWTs are refused. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError(Reason.Malformed, `a JWS has 3 parts, this token has ${parts.length}`);
  const [headerB64, payloadB64, signatureB64] = parts as [string, string, string];
  const header = decodePart(headerB64, 'header');
  const payload = decodePart(payloadB64, 'payload');
  if (!BASE64URL.test(signatureB64) || signatureB64.length % 4 === 1) {
    throw new InvalidTokenError(Reason.Malformed, 'the signature is missing or not base64url');
  }
  return { header, payload, headerB64, payloadB64, signatureB64 };
}
