/**
 * The local stack: the real signer handler against local stand-ins for S3, SQS, API Gateway and
 * CloudFront, configured from the same sources of truth as the construct (upload policy, CORS rules,
 * delivery headers, queue defaults). For offline development (`npm run demo`) and end-to-end tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createCdnListener } from './cdn';
import { LocalDynamoDb, startLocalDynamoDb } from './dynamodb';
import {
  createHttpApiListener,
  HttpApiCors,
  SIGNER_CORS_HEADERS,
  SIGNER_CORS_METHODS,
} from './http-api';
import { InjectScanResultOptions, injectScanResult } from './malware-scan';
import { close, listen, origin } from './net';
import { LocalCredentials, LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from './s3';
import { ObjectCreated, objectCreatedEvent, s3TestEvent } from './s3-events';
import { LocalSignedDownloads, localSignedDownloads, LocalSignedDownloadsOptions } from './signed-downloads';
import { LocalSqs, localQueueArn, startLocalSqs } from './sqs';
import { LocalVerifier, startLocalVerifier } from './verifier';
import { DEFAULT_INLINE_CONTENT_TYPES, deliveryHeaders, DeliveryHeaderOptions, uploadCorsRules } from '../contract/delivery';
import * as contract from '../contract/environment';
import type { ScanVerdict } from '../contract/malware-scan';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_QUEUE_RETENTION_SECONDS,
  DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
} from '../contract/queue-defaults';
import { RejectedObjectAction, VERIFIED_TAG, VERIFIED_VALUE } from '../contract/queue-message';
import {
  DEFAULT_ALLOWED_CONTENT_TYPES,
  DEFAULT_IDENTITY_CLAIM,
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_PREFIX,
  DEFAULT_URL_EXPIRY_SECONDS,
  parseSignerPolicy,
  serializeSignerPolicy,
  SignerPolicy,
} from '../contract/upload-rules';
import { lambdaRuntimeEnvironment, loadSignerConfig } from '../signer/config';
import { createSignerHandler, SignerHandlerOptions } from '../signer/handler';
import { loadVerifierConfig } from '../verifier/config';

/** Ports of the local services; 0 (the default) picks a free port. */
export interface LocalStackPorts {
  readonly s3?: number;
  readonly sqs?: number;
  readonly signer?: number;
  readonly cdn?: number;
  /** DynamoDB stand-in, with `uploadQuota` only. */
  readonly dynamodb?: number;
}

/** The construct's `uploadQuota`, locally. */
export interface LocalUploadQuota {
  /** Most new uploads per caller per window. */
  readonly maxUploads: number;
  /** Window length in seconds. */
  readonly windowSeconds: number;
}

/** Options of {@link startLocalStack}. Every one is optional. */
export interface LocalStackOptions {
  /** Address every service listens on. @default '127.0.0.1' */
  readonly host?: string;
  /** @default - free ports */
  readonly ports?: LocalStackPorts;
  /** How the port-taken message names each port setting. @default - `ports.s3`, `ports.sqs`, ... */
  readonly portOptionNames?: { readonly [K in keyof LocalStackPorts]?: string };
  /** @default 'direct-upload-local' */
  readonly bucketName?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Browser origins allowed to call the signer and upload to the bucket (CORS). @default - none */
  readonly allowedOrigins?: readonly string[];
  /**
   * The upload policy; unset fields take the construct's defaults, except `auth`, which defaults to
   * `'authorizer'` so that the local identity header (`x-local-user`) names the caller.
   */
  readonly policy?: Partial<SignerPolicy>;
  /** Delivery (CDN) header options, as on the construct. @default - the construct's defaults */
  readonly delivery?: DeliveryHeaderOptions;
  /** @default DEFAULT_MAX_RECEIVE_COUNT (the construct's) */
  readonly maxReceiveCount?: number;
  /** @default DEFAULT_VISIBILITY_TIMEOUT_SECONDS (the construct's) */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 'direct-upload-notifications' */
  readonly queueName?: string;
  /** @default - queue name + '-dlq' */
  readonly deadLetterQueueName?: string;
  /** Send the `s3:TestEvent` message S3 sends when the notification is configured. @default true */
  readonly sendTestEvent?: boolean;
  /** Credentials the S3 stand-in accepts and the signer signs with. @default - s3rver's `S3RVER` key pair */
  readonly credentials?: LocalCredentials;
  /** Directory for stored objects. @default - a new temporary directory, removed by `stop()` */
  readonly directory?: string;
  /** Test hooks for the signer (clock, ids, log). */
  readonly signer?: SignerHandlerOptions;
  /** Where the stack reports faults (bridge failures, handler crashes). @default console.error */
  readonly log?: (line: string) => void;
  /**
   * Run the upload verifier, as the construct does by default: S3 events go to a verification queue,
   * the real verifier handler consumes it, only verified uploads reach `queueUrl`, rejections go to
   * `rejectionQueueUrl`, and the CDN route serves objects under the prefix only once verified.
   * @default true
   */
  readonly verifyUploads?: boolean;
  /** What the verifier does with a rejected object. @default 'delete' */
  readonly rejectedUploads?: RejectedObjectAction;
  /**
   * Tag verified uploads `direct-upload:unclaimed=true` until claimed, as the construct does with
   * `unclaimedUploadExpiry` (the stand-in has no lifecycle rules: nothing expires locally). @default false
   */
  readonly expireUnclaimedUploads?: boolean;
  /** Visibility timeout of the verification queue (the construct: 6 × the verifier's 30 s). @default 180 */
  readonly verificationVisibilityTimeoutSeconds?: number;
  /** Verifier log lines (one JSON object each). @default - discarded */
  readonly verifierLog?: (line: string) => void;
  /**
   * Malware scanning as the construct's `malwareScanning` configures the verifier: an upload is verified
   * only once its bytes passed and a scan result `NO_THREATS_FOUND` arrived. GuardDuty does not run
   * locally: deliver each result with `injectScanResult` (uploads stay pending until then). Needs the verifier.
   * @default false
   */
  readonly malwareScanning?: boolean;
  /** With `malwareScanning`: seconds before a pending upload is reported `scan-overdue` (the construct: 900). @default 900 */
  readonly scanDeadlineSeconds?: number;
  /** Types the CDN route serves inline; others get `Content-Disposition: attachment`. @default DEFAULT_INLINE_CONTENT_TYPES */
  readonly inlineContentTypes?: readonly string[];
  /**
   * Enforce a per-caller upload quota as the construct's `uploadQuota` does: the real signer counts each
   * new upload with a conditional `UpdateItem` on a DynamoDB stand-in (dynalite, in memory; install
   * `dynalite` and `@aws-sdk/client-dynamodb` as dev dependencies).
   * @default - no quota
   */
  readonly uploadQuota?: LocalUploadQuota;
  /**
   * Signed delivery (the construct's `delivery: DeliveryMode.SIGNED_URLS`): the CDN route serves only
   * CloudFront-signed URLs made with the stack's key pair, and the signer answers `POST /downloads`.
   * @default - public delivery
   */
  readonly signedDownloads?: LocalSignedDownloadsOptions;
  /** App metadata keys a create request may carry, as the construct's `metadataKeys` allow-lists them. @default - none */
  readonly metadataKeys?: readonly string[];
}

/** A running local stack. */
export interface LocalStack {
  /** Base URL of the signer API: `POST ${signerUrl}/uploads`. */
  readonly signerUrl: string;
  /** Path-style S3 endpoint. */
  readonly s3Endpoint: string;
  /** Base URL objects are served from (`${cdnUrl}/${key}`). */
  readonly cdnUrl: string;
  /** With `signedDownloads`: the key pair the CDN route trusts (sign with `signDownloadUrl`). */
  readonly signedDownloads?: LocalSignedDownloads;
  /** SQS endpoint (for an `SQSClient`). */
  readonly sqsEndpoint: string;
  /** The notification queue. */
  readonly queueUrl: string;
  /** Its dead-letter queue (also the verification and rejection queues'). */
  readonly deadLetterQueueUrl: string;
  /** Whether the verifier runs. */
  readonly verifyUploads: boolean;
  /** The verifier's input queue (raw S3 events), when it runs. */
  readonly verificationQueueUrl?: string;
  /** Rejection records, when the verifier runs. */
  readonly rejectionQueueUrl?: string;
  /** The environment the verifier handler was configured from, when it runs. */
  readonly verifierEnvironment?: Readonly<Record<string, string>>;
  readonly bucket: string;
  readonly region: string;
  readonly policy: SignerPolicy;
  readonly allowedOrigins: readonly string[];
  readonly maxReceiveCount: number;
  /** Credentials the S3 stand-in accepts. */
  readonly credentials: LocalCredentials;
  /** The environment the signer handler was configured from (what the Lambda would see). */
  readonly signerEnvironment: Readonly<Record<string, string>>;
  /** Clients for the local S3 and SQS (destroyed by `stop()`). */
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** The DynamoDB stand-in's endpoint, with `uploadQuota`. */
  readonly dynamoDbEndpoint?: string;
  /** The quota table's name, with `uploadQuota`. */
  readonly quotaTableName?: string;
  /** Fault injection: stops the S3 stand-in (the signer's multipart calls then fail to connect). */
  stopS3(): Promise<void>;
  /** Fault injection: stops the DynamoDB stand-in (with `uploadQuota`; a no-op without). */
  stopDynamoDb(): Promise<void>;
  /**
   * Resolves when every object-created notification so far is on the queue (and, with the verifier,
   * when the verifier has processed every visible message of the verification queue).
   */
  flush(): Promise<void>;
  /**
   * Test hook, with `malwareScanning`: what GuardDuty does once it has scanned `key` (its current version,
   * or `options.versionId`): tags it `GuardDutyMalwareScanStatus=<verdict>` and publishes the scan result
   * to the verification queue (`options.tag` / `options.event` false leave a step out); then runs the
   * verifier. Resolves with the version and ETag the result is about.
   */
  injectScanResult(key: string, verdict: ScanVerdict, options?: InjectScanResultOptions): Promise<{ versionId?: string; eTag: string }>;
  /** Stops every service and removes what it created. Safe to call more than once. */
  stop(): Promise<void>;
}

/** The policy the local stack runs with: the construct's defaults, caller identity from the local header. */
export function localPolicy(overrides: Partial<SignerPolicy> = {}): SignerPolicy {
  const policy: SignerPolicy = {
    prefix: overrides.prefix ?? DEFAULT_PREFIX,
    allowedContentTypes: overrides.allowedContentTypes ?? DEFAULT_ALLOWED_CONTENT_TYPES,
    maxFileSize: overrides.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
    expiresInSeconds: overrides.expiresInSeconds ?? DEFAULT_URL_EXPIRY_SECONDS,
    accelerate: overrides.accelerate ?? false,
    auth: overrides.auth ?? 'authorizer',
    identityClaim: overrides.identityClaim ?? DEFAULT_IDENTITY_CLAIM,
    multipartThreshold: overrides.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD,
    partSize: overrides.partSize ?? DEFAULT_PART_SIZE,
    allowDeleteObject: overrides.allowDeleteObject ?? false,
  };
  // The same check the signer makes at cold start: fail here, with the field named, not per request.
  return parseSignerPolicy(serializeSignerPolicy(policy));
}

/** Starts the local stack. Rejects (after stopping whatever had started) when a port is taken. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const bucket = options.bucketName ?? 'direct-upload-local';
  const allowedOrigins = [...(options.allowedOrigins ?? [])];
  const policy = localPolicy(options.policy);
  const credentials = options.credentials ?? S3RVER_CREDENTIALS;
  const maxReceiveCount = options.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
  const queueName = options.queueName ?? 'direct-upload-notifications';
  const deadLetterQueueName = options.deadLetterQueueName ?? `${queueName}-dlq`;
  const log = options.log ?? ((line: string) => console.error(line));
  const names = {
    s3: options.portOptionNames?.s3 ?? 'ports.s3',
    sqs: options.portOptionNames?.sqs ?? 'ports.sqs',
    signer: options.portOptionNames?.signer ?? 'ports.signer',
    cdn: options.portOptionNames?.cdn ?? 'ports.cdn',
  };

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`[local stack] stop: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };

  try {
    const directory = options.directory ?? await mkdtemp(path.join(tmpdir(), 'direct-upload-local-'));
    if (!options.directory) cleanups.push(() => rm(directory, { recursive: true, force: true }));

    const verify = options.verifyUploads ?? true;
    const verificationQueueName = `${queueName}-verification`;
    const rejectionQueueName = `${queueName}-rejections`;
    const redrive = JSON.stringify({ deadLetterTargetArn: localQueueArn(region, deadLetterQueueName), maxReceiveCount });
    const verifierQueues: Array<{ name: string; attributes: Record<string, string> }> = verify ? [
      {
        name: verificationQueueName,
        attributes: {
          VisibilityTimeout: String(options.verificationVisibilityTimeoutSeconds ?? 180),
          MessageRetentionPeriod: String(DEFAULT_QUEUE_RETENTION_SECONDS),
          RedrivePolicy: redrive,
        },
      },
      { name: rejectionQueueName, attributes: { MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS), RedrivePolicy: redrive } },
    ] : [];

    // SQS: the dead-letter queue, then the notification queue redriving to it, like the construct.
    const sqs: LocalSqs = await startLocalSqs({
      host,
      port: options.ports?.sqs ?? 0,
      region,
      portOption: names.sqs,
      queues: [
        { name: deadLetterQueueName, attributes: { MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS) } },
        {
          name: queueName,
          attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
            MessageRetentionPeriod: String(DEFAULT_QUEUE_RETENTION_SECONDS),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: localQueueArn(region, deadLetterQueueName),
              maxReceiveCount,
            }),
          },
        },
        ...verifierQueues,
      ],
    });
    cleanups.push(() => sqs.stop());
    const queueUrl = sqs.queues[queueName].url;
    const deadLetterQueueUrl = sqs.queues[deadLetterQueueName].url;
    const verificationQueueUrl = verify ? sqs.queues[verificationQueueName].url : undefined;
    const rejectionQueueUrl = verify ? sqs.queues[rejectionQueueName].url : undefined;
    // S3 notifies the verifier when it runs, else the queue consumers read (v1).
    const notificationQueueUrl = verificationQueueUrl ?? queueUrl;
    let verifier: LocalVerifier | undefined;

    // Notifications: object-created events under the prefix, in S3's format, onto the queue.
    const pending = new Set<Promise<void>>();
    const notify = (created: ObjectCreated) => {
      if (created.bucket !== bucket || !created.key.startsWith(`${policy.prefix}/`)) return;
      const body = JSON.stringify(objectCreatedEvent(created, { region }));
      const sent: Promise<void> = sqs.client
        .send(new SendMessageCommand({ QueueUrl: notificationQueueUrl, MessageBody: body }))
        .then(() => {
          void verifier?.pump().catch((err: unknown) => log(`[local stack] verifier: ${String(err)}`));
        }, (err: unknown) => log(`[local stack] notification for ${created.key} not sent: ${String(err)}`))
        .finally(() => pending.delete(sent));
      pending.add(sent);
    };
    const flush = async () => {
      while (pending.size > 0) await Promise.all([...pending]);
      await verifier?.pump();
    };
    cleanups.push(flush);

    if (options.sendTestEvent ?? true) {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: notificationQueueUrl, MessageBody: JSON.stringify(s3TestEvent(bucket)) }));
    }

    const s3: LocalS3 = await startLocalS3({
      host,
      port: options.ports?.s3 ?? 0,
      bucket,
      region,
      corsRules: uploadCorsRules(allowedOrigins, options.metadataKeys),
      credentials,
      directory,
      onObjectCreated: notify,
      portOption: names.s3,
    });
    cleanups.push(() => s3.stop());

    // Verifier: the real handler, configured from the environment the Lambda would have.
    let verifierEnvironment: Record<string, string> | undefined;
    if (verify) {
      verifierEnvironment = contract.verifierEnvironment({
        policy,
        bucket,
        verifiedQueueUrl: queueUrl,
        rejectionQueueUrl: rejectionQueueUrl!,
        rejectedObjects: options.rejectedUploads ?? 'delete',
        tagUnclaimed: options.expireUnclaimedUploads ?? false,
        metadataKeys: options.metadataKeys,
        ...(options.malwareScanning
          ? { malwareScan: { deadlineSeconds: options.scanDeadlineSeconds ?? 900, verificationQueueUrl: verificationQueueUrl! } }
          : {}),
      });
      const running = startLocalVerifier({
        s3: s3.client,
        sqs: sqs.client,
        queueUrl: verificationQueueUrl!,
        config: loadVerifierConfig(verifierEnvironment),
        log: options.verifierLog,
      });
      verifier = running;
      cleanups.push(() => running.stop());
      await running.pump(); // the s3:TestEvent
    }

    // CDN: bound before the signer is configured, which needs its URL.
    const signed = options.signedDownloads ? localSignedDownloads(options.signedDownloads) : undefined;
    const cdnServer: Server = createServer(createCdnListener({
      client: s3.client,
      bucket,
      headers: deliveryHeaders(options.delivery),
      log,
      gate: verify ? { prefix: policy.prefix, tagKey: VERIFIED_TAG, tagValue: VERIFIED_VALUE } : undefined,
      inlineContentTypes: options.inlineContentTypes ?? DEFAULT_INLINE_CONTENT_TYPES,
      trustedKeys: signed?.trustedKeys,
      now: options.signer?.now,
    }));
    const cdnPort = await listen(cdnServer, host, options.ports?.cdn ?? 0, 'CDN', names.cdn);
    cleanups.push(() => close(cdnServer));
    const cdnUrl = origin(host, cdnPort);

    // Signer: the real handler, configured from the environment the Lambda would have.
    let dynamoDb: LocalDynamoDb | undefined;
    let quota: contract.QuotaSettings | undefined;
    if (options.uploadQuota) {
      quota = { table: 'direct-upload-quota', ...options.uploadQuota };
      const running = await startLocalDynamoDb({
        host,
        port: options.ports?.dynamodb ?? 0,
        region,
        tableName: quota.table,
        credentials,
        portOption: options.portOptionNames?.dynamodb ?? 'ports.dynamodb',
      });
      dynamoDb = running;
      cleanups.push(() => running.stop());
    }
    const signerEnvironment: Record<string, string> = {
      ...contract.signerEnvironment({
        policy,
        bucket,
        publicBaseUrl: cdnUrl,
        endpoint: s3.endpoint,
        metadataKeys: options.metadataKeys,
        ...(quota && dynamoDb ? { quota, dynamoDbEndpoint: dynamoDb.endpoint } : {}),
        ...(signed ? { downloads: signed.settings(region) } : {}),
      }),
      ...lambdaRuntimeEnvironment(region, credentials),
    };
    const signerConfig = loadSignerConfig(signerEnvironment);
    const handler = createSignerHandler(signerConfig, { log, ...(signed ? { downloadStore: signed.store(signerConfig) } : {}), ...options.signer });
    const cors: HttpApiCors = {
      allowOrigins: allowedOrigins,
      allowMethods: SIGNER_CORS_METHODS,
      allowHeaders: SIGNER_CORS_HEADERS,
      maxAgeSeconds: 3600,
    };
    const signerServer: Server = createServer(createHttpApiListener({
      handler,
      authorizer: { auth: policy.auth, identityClaim: policy.identityClaim },
      cors,
      log,
    }));
    const signerPort = await listen(signerServer, host, options.ports?.signer ?? 0, 'signer API', names.signer);
    cleanups.push(() => close(signerServer));

    let stopped: Promise<void> | undefined;
    return {
      signerUrl: origin(host, signerPort),
      s3Endpoint: s3.endpoint,
      cdnUrl,
      signedDownloads: signed,
      sqsEndpoint: sqs.endpoint,
      queueUrl,
      deadLetterQueueUrl,
      verifyUploads: verify,
      verificationQueueUrl,
      rejectionQueueUrl,
      verifierEnvironment,
      bucket,
      region,
      policy,
      allowedOrigins,
      maxReceiveCount,
      credentials,
      signerEnvironment,
      s3: s3.client,
      sqs: sqs.client,
      dynamoDbEndpoint: dynamoDb?.endpoint,
      quotaTableName: quota?.table,
      stopS3: () => s3.stop(),
      stopDynamoDb: async () => dynamoDb?.stop(),
      flush,
      injectScanResult: async (key, verdict, injectOptions) => {
        if (!options.malwareScanning || !verificationQueueUrl) throw new Error('injectScanResult needs malwareScanning: true (and the verifier)');
        const target = { bucket, region, verificationQueueUrl };
        const scanned = await injectScanResult({ s3: s3.client, sqs: sqs.client }, target, key, verdict, injectOptions);
        await flush();
        return scanned;
      },
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
