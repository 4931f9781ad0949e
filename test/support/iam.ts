/** The IAM evaluator lives beside the sandbox gateway, which evaluates policies the same way. */
export { type EvaluablePolicy, evaluate } from '../../sandbox/iam';
