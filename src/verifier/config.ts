/**
 * The verifier's configuration, read once from its environment at cold start. Pure: takes the
 * environment as an argument (the Lambda passes `process.env`, tests and the local stack their own).
 */
import {
  BUCKET_ENV,
  POLICY_ENV,
  REJECTED_OBJECTS_ENV,
  REJECTION_QUEUE_URL_ENV,
  VERIFIED_QUEUE_URL_ENV,
} from '../contract/environment';
import { RejectedObjectAction } from '../contract/queue-message';
import { parsePolicy, UploadPolicy } from '../contract/upload-rules';

/** Everything the verifier needs. */
export interface VerifierConfig {
  readonly bucket: string;
  readonly policy: UploadPolicy;
  /** Where verified notifications go (the queue consumers read). */
  readonly verifiedQueueUrl: string;
  /** Where rejection records go. */
  readonly rejectionQueueUrl: string;
  readonly rejectedObjects: RejectedObjectAction;
}

/** Reads and checks the configuration; throws once, naming every broken variable. */
export function loadVerifierConfig(env: Readonly<Record<string, string | undefined>>): VerifierConfig {
  const problems: string[] = [];
  let policy: UploadPolicy | undefined;
  try {
    policy = parsePolicy(env[POLICY_ENV]);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  const bucket = env[BUCKET_ENV];
  if (!bucket) problems.push(`${BUCKET_ENV} is not set`);
  const verifiedQueueUrl = env[VERIFIED_QUEUE_URL_ENV];
  if (!verifiedQueueUrl || !/^https?:\/\//.test(verifiedQueueUrl)) problems.push(`${VERIFIED_QUEUE_URL_ENV} is not a queue URL`);
  const rejectionQueueUrl = env[REJECTION_QUEUE_URL_ENV];
  if (!rejectionQueueUrl || !/^https?:\/\//.test(rejectionQueueUrl)) problems.push(`${REJECTION_QUEUE_URL_ENV} is not a queue URL`);
  const rejectedObjects = env[REJECTED_OBJECTS_ENV] ?? 'delete';
  if (rejectedObjects !== 'delete' && rejectedObjects !== 'retain') problems.push(`${REJECTED_OBJECTS_ENV} must be "delete" or "retain"`);
  if (problems.length > 0) throw new Error(`verifier configuration: ${problems.join('; ')}`);
  return {
    bucket: bucket!,
    policy: policy!,
    verifiedQueueUrl: verifiedQueueUrl!,
    rejectionQueueUrl: rejectionQueueUrl!,
    rejectedObjects: rejectedObjects as RejectedObjectAction,
  };
}
