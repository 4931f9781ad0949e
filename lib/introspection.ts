import { ArnFormat, type Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

/**
 * Whether an issuer's tokens must be sender-constrained (the configuration's
 * `issuers[].senderConstraint`; docs/configuration.md, "Sender-constrained tokens").
 */
export enum SenderConstraint {
  /** Bound tokens (`cnf`) are checked; tokens without `cnf` pass. The default. */
  OPTIONAL = 'optional',
  /**
   * Tokens without `cnf` are refused (401 `invalid_token.sender_constraint`). Only an
   * authorizer that sees the request can check a binding: a REQUEST authorizer
   * (`AuthorizerMode.REQUEST`) or an HTTP API's; a TOKEN authorizer would refuse every token.
   */
  REQUIRED = 'required',
}

/** The prefix of an SSM parameter name that reads a Secrets Manager secret through Parameter Store. */
export const SECRETS_MANAGER_REFERENCE = '/aws/reference/secretsmanager/';

/**
 * RFC 7662 introspection of an issuer's opaque tokens, as the construct deploys it (the
 * configuration's `issuers[].introspection`, docs/configuration.md, "Introspection"). The
 * client authenticates with a secret or a client certificate read from SSM parameters that
 * you create (a SecureString cannot be made by CloudFormation): the construct grants the
 * function `ssm:GetParameter` on exactly those, `secretsmanager:GetSecretValue` on a secret
 * referenced as `/aws/reference/secretsmanager/NAME`, and `kms:Decrypt` on
 * `parameterEncryptionKey` when given. Inline secrets are not taken: they would be written into
 * the template and into the configuration's plain String parameter.
 */
export interface ScopeIntrospection {
  /** The introspection endpoint (https). */
  readonly endpoint: string;
  /** The client id the authorizer authenticates as. */
  readonly clientId: string;
  /**
   * Name (or ARN) of the SSM parameter holding the client secret (`client_secret_basic`): a
   * SecureString, or `/aws/reference/secretsmanager/NAME`.
   * @default - none: a client certificate and key instead
   */
  readonly clientSecretParameter?: string;
  /**
   * Name (or ARN) of the SSM parameter holding the client certificate, PEM (RFC 8705 `tls_client_auth`).
   * @default - none
   */
  readonly clientCertificateParameter?: string;
  /**
   * Name (or ARN) of the SSM parameter holding the client certificate's private key, PEM.
   * @default - none
   */
  readonly clientKeyParameter?: string;
  /**
   * The customer managed KMS key the parameters are encrypted with (`kms:Decrypt` is granted).
   * @default - the AWS managed key `aws/ssm`, whose key policy lets the account's principals decrypt through SSM
   */
  readonly parameterEncryptionKey?: kms.IKey;
  /**
   * Keep an answer at most this long (never beyond the token's `exp`), whole seconds.
   * @default Duration.seconds(60)
   */
  readonly cacheMaxAge?: Duration;
  /**
   * Deadline of one introspection call, whole milliseconds.
   * @default Duration.millis(100)
   */
  readonly timeout?: Duration;
  /**
   * Introspect this issuer's JWTs too, after local verification (to honour revocation).
   * @default false
   */
  readonly forJwts?: boolean;
  /**
   * The authorization server's answers carry no `aud`, so none is required.
   * @default false
   */
  readonly omitsAudience?: boolean;
  /**
   * `token_type` values that mark an answer as an access token (case-insensitive).
   * @default ['Bearer', 'DPoP']
   */
  readonly accessTokenTypes?: string[];
  /**
   * Opaque tokens that start with this go to this issuer only (needed when two issuers introspect).
   * @default - none
   */
  readonly tokenPrefix?: string;
}

/** The configuration's `introspection` member for {@link ScopeIntrospection} (the document the function reads). */
export function introspectionDocument(introspection: ScopeIntrospection): Record<string, unknown> {
  const {
    parameterEncryptionKey: _key,
    cacheMaxAge,
    timeout,
    clientSecretParameter,
    clientCertificateParameter,
    clientKeyParameter,
    ...rest
  } = introspection;
  return {
    ...rest,
    ...(clientSecretParameter !== undefined ? { clientSecretParameter } : {}),
    ...(clientCertificateParameter !== undefined ? { clientCertificateParameter } : {}),
    ...(clientKeyParameter !== undefined ? { clientKeyParameter } : {}),
    ...(cacheMaxAge !== undefined ? { cacheMaxSeconds: cacheMaxAge.toSeconds() } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout.toMilliseconds() } : {}),
  };
}

/** The SSM parameter names an introspection setting reads. */
function parameterNames(introspection: ScopeIntrospection): string[] {
  return [introspection.clientSecretParameter, introspection.clientCertificateParameter, introspection.clientKeyParameter].filter(
    (name): name is string => name !== undefined,
  );
}

/**
 * Let `grantee` (the authorizer function) read the secrets of every introspecting issuer:
 * `ssm:GetParameter` on each parameter, `secretsmanager:GetSecretValue` on a secret Parameter
 * Store references (Parameter Store honours the secret's permissions), `kms:Decrypt` on a
 * customer managed key. Nothing is granted when no issuer introspects.
 */
export function grantIntrospectionSecrets(scope: IConstruct, grantee: iam.IGrantable, introspections: ScopeIntrospection[]): void {
  const stack = Stack.of(scope);
  const parameters = new Set<string>();
  const secrets = new Set<string>();
  for (const introspection of introspections) {
    for (const name of parameterNames(introspection)) {
      parameters.add(
        name.startsWith('arn:') ? name : stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') }),
      );
      if (name.startsWith(SECRETS_MANAGER_REFERENCE)) {
        // Secrets Manager appends a dash and six characters to a secret's name in its ARN.
        secrets.add(
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${name.slice(SECRETS_MANAGER_REFERENCE.length)}-??????`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        );
      }
    }
    introspection.parameterEncryptionKey?.grantDecrypt(grantee);
  }
  if (parameters.size > 0) {
    iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns: [...parameters] });
  }
  if (secrets.size > 0) {
    iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [...secrets] });
  }
}
