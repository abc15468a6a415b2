/**
 * `POST /downloads` `{ key }` → `{ url, expiresAt }` (signed delivery mode): a short-lived CloudFront
 * signed URL for one of the caller's own verified uploads. One S3 call (GetObjectTagging: is it verified?)
 * per request; the private key is read from Secrets Manager once per cold start and never logged or
 * returned. Signing is {@link signDownloadUrl}, the function the application's backend uses too.
 */
import type * as SecretsManager from '@aws-sdk/client-secrets-manager';
import { SignerConfig } from './config';
import { readKey, readObject } from './fields';
import { accept, Outcome, reject } from './http';
import { createS3Client, DependencyUnavailableError, isUnavailable, S3_SDK_TIMEOUTS } from './multipart';
import { VERIFIED_TAG, VERIFIED_VALUE } from '../contract/queue-message';
import { ErrorCodes } from '../contract/signer-protocol';
import { signDownloadUrl } from '../worker/sign-download';


/** The response of `POST /downloads`. */
export interface SignedDownload {
  readonly url: string;
  readonly expiresAt: string;
}

/** Whether the current version of a key is verified, or missing. */
export type VerificationState = 'verified' | 'unverified' | 'missing';

/** The two dependencies of the route: S3 (the object's tags) and the private key. */
export interface DownloadStore {
  verification(key: string): Promise<VerificationState>;
  /** The private key PEM; called per request, read from its source once. */
  privateKey(): Promise<string>;
}

/** The route: checks the body, the key's scope, that the object is verified, then signs. */
export async function downloadRoute(
  config: SignerConfig, store: DownloadStore, scope: string, body: unknown, now: Date,
): Promise<Outcome<SignedDownload>> {
  const downloads = config.downloads;
  if (!downloads) {
    return reject(404, ErrorCodes.NOT_FOUND, 'Signed downloads are not enabled: the construct serves files publicly (delivery: DeliveryMode.PUBLIC); use publicUrl.');
  }
  const fields = readObject(body, ['key'], '{"key":"uploads/<you>/<name>"}');
  if (!fields.ok) return fields;
  const key = readKey(fields.value, config.policy, scope);
  if (!key.ok) return key;
  const state = await store.verification(key.value);
  if (state === 'missing') return reject(404, ErrorCodes.OBJECT_NOT_FOUND, 'No file is stored at this key (never uploaded, rejected or deleted).');
  if (state === 'unverified') {
    return reject(409, ErrorCodes.NOT_VERIFIED, 'The file is not verified yet (or was rejected); retry in a few seconds, after its verification message.');
  }
  const expiresAt = new Date((Math.floor(now.getTime() / 1000) + downloads.expiresInSeconds) * 1000);
  const url = signDownloadUrl({
    baseUrl: config.publicBaseUrl, key: key.value, keyPairId: downloads.keyPairId, privateKey: await store.privateKey(), expiresAt,
  });
  return accept({ url, expiresAt: expiresAt.toISOString() });
}

/**
 * The SDK-backed store: GetObjectTagging through `@aws-sdk/client-s3` and GetSecretValue through
 * `@aws-sdk/client-secrets-manager`, both from the Lambda runtime, loaded on the first download request.
 * A failed secret read is retried on the next request; a successful one is kept for the cold start.
 * Unavailability of either becomes {@link DependencyUnavailableError} (503).
 */
export function sdkDownloadStore(config: SignerConfig): DownloadStore {
  const s3 = createS3Client(config);
  let key: Promise<string> | undefined;
  return {
    async verification(objectKey) {
      const { client, m } = s3();
      try {
        const res = await client.send(new m.GetObjectTaggingCommand({ Bucket: config.bucket, Key: objectKey }),
          { abortSignal: AbortSignal.timeout(S3_SDK_TIMEOUTS.callBudget) });
        return (res.TagSet ?? []).some((t) => t.Key === VERIFIED_TAG && t.Value === VERIFIED_VALUE) ? 'verified' : 'unverified';
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404) return 'missing';
        throw isUnavailable(err) ? new DependencyUnavailableError('S3', err) : err;
      }
    },
    privateKey() {
      key ??= readSecret(config.downloads?.secretArn ?? '', config.region).catch((err: unknown) => {
        key = undefined;
        throw new DependencyUnavailableError('Secrets Manager', err);
      });
      return key;
    },
  };
}

async function readSecret(secretArn: string, region: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require('@aws-sdk/client-secrets-manager') as typeof SecretsManager;
  const client = new m.SecretsManagerClient({ region, maxAttempts: S3_SDK_TIMEOUTS.maxAttempts });
  const res = await client.send(new m.GetSecretValueCommand({ SecretId: secretArn }),
    { abortSignal: AbortSignal.timeout(S3_SDK_TIMEOUTS.callBudget) });
  if (!res.SecretString || !res.SecretString.includes('PRIVATE KEY')) throw new Error('the secret holds no PEM private key');
  return res.SecretString;
}
