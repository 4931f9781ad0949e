/**
 * The authorizer's configuration: its schema (the document as written and the validated
 * configuration), the enumerations, and the validation. One entry for every reader: the
 * authorizer, the CDK constructs, the CLI and the proof.
 */
export * from './enums';
export { normalizeMediaType } from './issuers';
export * from './parse';
export * from './types';
