import { Token } from 'aws-cdk-lib';
import type { IssuerDocument } from '../core/config';
import { type CognitoUserPoolIssuer, cognitoIssuerConfig, isCognitoUserPoolIssuer } from './cognito-issuer';
import { introspectionDocument } from './introspection';
import type { ScopeAuthorizerIssuer } from './issuer';

/** An issuer of the construct's props: a configuration entry, or a Cognito user pool with its app clients. */
export type AnyIssuer = ScopeAuthorizerIssuer | CognitoUserPoolIssuer;

/** An issuer of the construct's props as the authorizer configuration writes it (introspection durations as numbers). */
export function resolveIssuer(issuer: AnyIssuer): IssuerDocument {
  const { introspection, ...rest } = isCognitoUserPoolIssuer(issuer) ? cognitoIssuerConfig(issuer) : issuer;
  return introspection === undefined ? rest : { ...rest, introspection: introspectionDocument(introspection) };
}

/**
 * The issuers as the configuration's validation sees them at synth: deploy-time values (the
 * distribution's domain, a user pool's issuer) cannot be checked there, so a
 * `https://deploy-time.invalid/` URL stands in for them (warnings that name it are not shown).
 */
export function issuersForValidation(issuers: readonly AnyIssuer[]): IssuerDocument[] {
  return issuers.map(resolveIssuer).map((i, n) => ({
    ...i,
    issuer: Token.isUnresolved(i.issuer) ? `https://deploy-time.invalid/issuer/${n}` : i.issuer,
    ...(i.jwksUri !== undefined && Token.isUnresolved(i.jwksUri) ? { jwksUri: 'https://deploy-time.invalid/jwks.json' } : {}),
    jwksFallbackUris: i.jwksFallbackUris?.map((u) => (Token.isUnresolved(u) ? 'https://deploy-time.invalid/fallback.json' : u)),
  }));
}

/**
 * The issuers at their longest, for measuring the configuration against its parameter tier:
 * deploy-time URLs (the distribution's domain) become a stand-in as long as the longest
 * CloudFront domain, and a user pool's issuer and client ids their longest length, so the
 * size check never passes at synth what fails at deploy.
 */
export function issuersAtLongest(issuers: readonly AnyIssuer[]): IssuerDocument[] {
  const standIn = (uri: string) => (Token.isUnresolved(uri) ? `https://${'d'.repeat(14)}.cloudfront.net/${'x'.repeat(40)}/jwks.json` : uri);
  const long = (value: string, length: number) => (Token.isUnresolved(value) ? 'x'.repeat(length) : value);
  return issuers.map(resolveIssuer).map((i) => ({
    ...i,
    issuer: long(i.issuer, 80),
    ...(i.jwksUri !== undefined ? { jwksUri: standIn(i.jwksUri) } : {}),
    jwksFallbackUris: i.jwksFallbackUris?.map(standIn),
    clientIds: i.clientIds?.map((c) => long(c, 128)),
  }));
}
