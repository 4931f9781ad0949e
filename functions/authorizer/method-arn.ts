import { MalformedEventError } from '../../core/errors';
import { splitPath } from '../../core/routes';

/** The parts of an API Gateway method ARN. */
export interface MethodArn {
  /** `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID/STAGE/`, the prefix of every resource of this API stage. */
  stagePrefix: string;
  apiId: string;
  stage: string;
  method: string;
  /** The request path split into segments. */
  segments: string[];
}

const ARN = /^(arn:[a-z-]+:execute-api:[a-z0-9-]+:\d{12}:)([A-Za-z0-9]+)\/([^/]+)\/([A-Z*]+)(\/.*)?$/;

/** Parse `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/telemetry/s1`. */
export function parseMethodArn(methodArn: string): MethodArn {
  const match = ARN.exec(methodArn);
  if (match === null) throw new MalformedEventError(`not an execute-api method ARN: ${methodArn.slice(0, 200)}`);
  const [, head, apiId, stage, method, path] = match as unknown as [string, string, string, string, string, string | undefined];
  return { stagePrefix: `${head}${apiId}/${stage}/`, apiId, stage, method, segments: splitPath(path ?? '') };
}
