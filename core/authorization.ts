/**
 * The syntax of the Authorization value, in one home for the CDK construct, the sandbox
 * gateway and the authorizer, so that what API Gateway lets through and what the function
 * reads cannot drift apart.
 */

/**
 * The regex API Gateway checks the Authorization value against before it calls a REST TOKEN
 * authorizer (the construct's `validationRegex`, the sandbox gateway's check): the `Bearer`
 * scheme in any case, one space, one RFC 6750 `b64token`. A string, as CloudFormation takes it.
 */
export const BEARER_VALIDATION_REGEX = '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$';

/**
 * How the authorizer reads an Authorization value: `Bearer` or `DPoP` (RFC 9449) in any case,
 * blanks, one token, optional trailing blanks; group 1 is the scheme, group 2 the token. Wider
 * than {@link BEARER_VALIDATION_REGEX} on purpose: REQUEST and HTTP API authorizers get no
 * validation regex, and DPoP tokens come under their own scheme. Every value the gateway
 * regex admits is read as the same bearer token (a property test pins it).
 */
export const AUTHORIZATION_CREDENTIALS = /^(bearer|dpop)[ \t]+([^\s]+)[ \t]*$/i;
