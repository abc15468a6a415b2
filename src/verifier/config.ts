/**
 * The verifier's configuration, read once from its environment at cold start. Pure: takes the
 * environment as an argument (the Lambda passes `process.env`, tests and the local stack their own).
 */
import {
  BUCKET_ENV,
  POLICY_ENV,
  REJECTED_OBJECTS_ENV,
  REJECTION_QUEUE_URL_ENV,
  SCAN_DEADLINE_SECONDS_ENV,
  VERIFICATION_QUEUE_URL_ENV,
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
  /** Malware scanning (GuardDuty), when on: an upload is verified only once its scan found no threats. */
  readonly malwareScan?: MalwareScanConfig;
}

/** The verifier's side of malware scanning. */
export interface MalwareScanConfig {
  /** Seconds after the byte check an upload still without a scan result is reported overdue (0 to 900). */
  readonly deadlineSeconds: number;
  /** The verifier's own input queue: scan deadlines are sent there, delayed. */
  readonly verificationQueueUrl: string;
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
  let malwareScan: MalwareScanConfig | undefined;
  const deadline = env[SCAN_DEADLINE_SECONDS_ENV];
  if (deadline !== undefined) {
    const deadlineSeconds = Number(deadline);
    if (!/^\d+$/.test(deadline) || deadlineSeconds > 900) problems.push(`${SCAN_DEADLINE_SECONDS_ENV} must be a whole number of seconds from 0 to 900`);
    const verificationQueueUrl = env[VERIFICATION_QUEUE_URL_ENV];
    if (!verificationQueueUrl || !/^https?:\/\//.test(verificationQueueUrl)) problems.push(`${VERIFICATION_QUEUE_URL_ENV} is not a queue URL (needed with ${SCAN_DEADLINE_SECONDS_ENV})`);
    malwareScan = { deadlineSeconds, verificationQueueUrl: verificationQueueUrl ?? '' };
  }
  if (problems.length > 0) throw new Error(`verifier configuration: ${problems.join('; ')}`);
  return {
    bucket: bucket!,
    policy: policy!,
    verifiedQueueUrl: verifiedQueueUrl!,
    rejectionQueueUrl: rejectionQueueUrl!,
    rejectedObjects: rejectedObjects as RejectedObjectAction,
    ...(malwareScan ? { malwareScan } : {}),
  };
}
