// The anchor for cold start: the smallest useful aws-jwt-verify TOKEN authorizer, bundled
// the same way as scopegate's. It checks signature, iss, aud and exp, and returns an Allow
// for the asked method ARN only.
import { JwtVerifier } from 'aws-jwt-verify';

const config = JSON.parse(process.env.AUTHZ_CONFIG ?? '{}');
const issuer = config.issuers[0];
const verifier = JwtVerifier.create({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri });

export const handler = async (event: { authorizationToken: string; methodArn: string }) => {
  const token = event.authorizationToken.replace(/^Bearer /i, '');
  try {
    const payload = await verifier.verify(token, { audience: issuer.audience });
    return {
      principalId: String(payload.sub),
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
    };
  } catch {
    throw new Error('Unauthorized');
  }
};
