/** Defaults, validation and the runtime policy of {@link UploadRules}, shared by the signer and the verifier. */
import { Annotations, Duration, Size, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { contentTypeProblems, found, resolvedBytes, resolvedMillis, resolvedString } from './validation';
import { metadataKeysProblems } from '../contract/metadata';
import {
  ACTIVE_CONTENT_TYPES,
  AuthMode,
  DEFAULT_ALLOWED_CONTENT_TYPES,
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_PREFIX,
  DEFAULT_URL_EXPIRY_SECONDS,
  formatBytes,
  MAX_OBJECT_SIZE,
  MAX_URL_EXPIRY_SECONDS,
  MIN_URL_EXPIRY_SECONDS,
  SignerPolicy,
  UploadPolicy,
  multipartProblems,
  prefixProblem,
} from '../contract/upload-rules';
import { UploadRules } from '../upload-rules';

/** The secure baseline of the upload rules. */
export const UPLOAD_RULE_DEFAULTS = {
  uploadPrefix: DEFAULT_PREFIX,
  allowedContentTypes: DEFAULT_ALLOWED_CONTENT_TYPES,
  maxFileSize: Size.bytes(DEFAULT_MAX_FILE_SIZE),
  urlExpiry: Duration.seconds(DEFAULT_URL_EXPIRY_SECONDS),
  multipartThreshold: Size.bytes(DEFAULT_MULTIPART_THRESHOLD),
  multipartPartSize: Size.bytes(DEFAULT_PART_SIZE),
  allowDeleteObject: false,
} as const;

/** Every problem of the upload rules, each naming the prop and the fix. */
export function uploadRuleProblems(rules: UploadRules): string[] {
  const maxFileSize = resolvedBytes(rules.maxFileSize);
  const expiry = resolvedMillis(rules.urlExpiry);
  const prefix = resolvedString(rules.uploadPrefix);
  const multipart = ([['multipartThreshold', rules.multipartThreshold], ['multipartPartSize', rules.multipartPartSize]] as const).map(([name, size]) => {
    const bytes = resolvedBytes(size);
    if (bytes === undefined) return undefined;
    const problem = name === 'multipartThreshold'
      ? multipartProblems(bytes, DEFAULT_PART_SIZE).threshold
      : multipartProblems(DEFAULT_MULTIPART_THRESHOLD, bytes).partSize;
    return problem ? `${name} ${problem} (got ${formatBytes(bytes, false)}).` : undefined;
  });
  return found(
    maxFileSize !== undefined && maxFileSize <= 0 ? `maxFileSize must be positive (got ${formatBytes(maxFileSize, false)}); use e.g. Size.mebibytes(25).` : undefined,
    maxFileSize !== undefined && maxFileSize > MAX_OBJECT_SIZE ? `maxFileSize must be at most 5 TiB, the largest S3 object (got ${formatBytes(maxFileSize, false)}); use a smaller Size.` : undefined,
    contentTypeProblems('allowedContentTypes', rules.allowedContentTypes, { nonEmpty: true, unique: true }),
    expiry !== undefined && (expiry < MIN_URL_EXPIRY_SECONDS * 1000 || expiry > MAX_URL_EXPIRY_SECONDS * 1000)
      ? `urlExpiry must be between 1 second and 1 hour (got ${rules.urlExpiry!.toHumanString()}); presigned URLs die with the signer's temporary credentials anyway.`
      : expiry !== undefined && expiry % 1000 !== 0 ? `urlExpiry must be a whole number of seconds (got ${rules.urlExpiry!.toHumanString()}); use Duration.seconds(n).` : undefined,
    prefix !== undefined && prefixProblem(prefix) ? `uploadPrefix ${prefixProblem(prefix)}.` : undefined,
    ...multipart,
    metadataKeysProblems((rules.metadataKeys ?? []).filter((key) => !Token.isUnresolved(key))),
  );
}

/** The allow-listed app metadata keys of `rules` (none by default). */
export function metadataKeysOf(rules: UploadRules): string[] {
  return [...(rules.metadataKeys ?? [])];
}

/** Warns (on `scope`) about allowed types that run script when opened: a choice the user made knowingly. */
export function warnAboutActiveTypes(scope: IConstruct, rules: UploadRules): void {
  const active = (rules.allowedContentTypes ?? []).filter((t) => ACTIVE_CONTENT_TYPES.includes(t));
  if (active.length > 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-direct-upload:activeContentTypes',
      `allowedContentTypes contains ${active.join(', ')}: such files run script when opened. They are served with a sandboxing CSP, but prefer converting them server-side.`,
    );
  }
}

/** How the signer learns who the caller is, and whether its URLs use the accelerate endpoint. */
export interface SigningMode {
  readonly auth: AuthMode;
  readonly identityClaim: string;
  readonly accelerate: boolean;
}

/** The upload rules the verifier checks (and the signer signs for), defaults applied. */
export function uploadPolicy(rules: UploadRules): UploadPolicy {
  const d = UPLOAD_RULE_DEFAULTS;
  return {
    prefix: uploadPrefixOf(rules),
    allowedContentTypes: rules.allowedContentTypes ?? [...d.allowedContentTypes],
    maxFileSize: (rules.maxFileSize ?? d.maxFileSize).toBytes(),
  };
}

/** The signer's policy for `rules`, defaults applied. */
export function signerPolicy(rules: UploadRules, mode: SigningMode): SignerPolicy {
  const d = UPLOAD_RULE_DEFAULTS;
  return {
    ...uploadPolicy(rules),
    expiresInSeconds: (rules.urlExpiry ?? d.urlExpiry).toSeconds(),
    accelerate: mode.accelerate,
    auth: mode.auth,
    identityClaim: mode.identityClaim,
    multipartThreshold: (rules.multipartThreshold ?? d.multipartThreshold).toBytes(),
    partSize: (rules.multipartPartSize ?? d.multipartPartSize).toBytes(),
    allowDeleteObject: rules.allowDeleteObject ?? d.allowDeleteObject,
  };
}

/** The upload prefix of `rules` (no trailing slash), default applied. */
export function uploadPrefixOf(rules: UploadRules): string {
  return rules.uploadPrefix ?? UPLOAD_RULE_DEFAULTS.uploadPrefix;
}

