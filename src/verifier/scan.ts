/**
 * Malware scanning (GuardDuty Malware Protection for S3): the scan verdicts, the EventBridge event the
 * verifier receives for each scanned object, and the deadline message that raises the alarm when a scan
 * never arrives. Pure: no AWS SDK, no aws-cdk-lib (the construct, the handler and the local stack share it).
 *
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
 */

/** The tag GuardDuty writes on a scanned object (`Actions.Tagging: ENABLED`); its value is a {@link ScanVerdict}. */
export const GUARDDUTY_SCAN_TAG = 'GuardDutyMalwareScanStatus';
/** EventBridge `source` of GuardDuty's events (only AWS can publish `aws.*` sources). */
export const SCAN_EVENT_SOURCE = 'aws.guardduty';
/** EventBridge `detail-type` of a scan result. */
export const SCAN_RESULT_DETAIL_TYPE = 'GuardDuty Malware Protection Object Scan Result';

/** The scan results GuardDuty reports (`detail.scanResultDetails.scanResultStatus`, and the tag's value). */
export const SCAN_VERDICTS = ['NO_THREATS_FOUND', 'THREATS_FOUND', 'UNSUPPORTED', 'ACCESS_DENIED', 'FAILED'] as const;
/** One scan result. Only `NO_THREATS_FOUND` lets an upload be served or announced. */
export type ScanVerdict = typeof SCAN_VERDICTS[number];

/** The scan verdicts that are neither clean nor malware: the verifier fails closed on them (and alarms). */
export const INCOMPLETE_SCAN_VERDICTS: readonly ScanVerdict[] = ['UNSUPPORTED', 'ACCESS_DENIED', 'FAILED'];

/** The rejection code recorded for each verdict but `NO_THREATS_FOUND`. */
export type ScanRejectionCode = 'MALWARE_FOUND' | 'MALWARE_SCAN_UNSUPPORTED' | 'MALWARE_SCAN_ACCESS_DENIED' | 'MALWARE_SCAN_FAILED';

/** Value of the verifier's `direct-upload:scan` tag while the bytes passed and the scan result is awaited. */
export const SCAN_PENDING = 'pending';

export function isScanVerdict(value: unknown): value is ScanVerdict {
  return typeof value === 'string' && (SCAN_VERDICTS as readonly string[]).includes(value);
}

/** What one scan result event says, as much as the verifier uses. */
export interface ScanResult {
  readonly bucket: string;
  /** The object key (not URL-encoded, unlike S3 event notifications). */
  readonly key: string;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly verdict: ScanVerdict;
  /** The event's `time`. */
  readonly time?: string;
  readonly region?: string;
}

interface ScanEventShape {
  readonly 'source'?: unknown;
  readonly 'detail-type'?: unknown;
  readonly 'time'?: unknown;
  readonly 'region'?: unknown;
  readonly 'detail'?: {
    readonly s3ObjectDetails?: { readonly bucketName?: unknown; readonly objectKey?: unknown; readonly versionId?: unknown; readonly eTag?: unknown };
    readonly scanResultDetails?: { readonly scanResultStatus?: unknown };
  };
}

/** Whether a queue message is an EventBridge event from GuardDuty's malware scan (whatever its content). */
export function isScanResultEvent(message: unknown): boolean {
  const m = message as ScanEventShape | undefined;
  return m?.source === SCAN_EVENT_SOURCE && m?.['detail-type'] === SCAN_RESULT_DETAIL_TYPE;
}

/** Reads a scan result event; throws (the message then fails and is retried, then dead-lettered) when it is malformed. */
export function parseScanResultEvent(message: unknown): ScanResult {
  const m = message as ScanEventShape;
  const object = m.detail?.s3ObjectDetails;
  const verdict = m.detail?.scanResultDetails?.scanResultStatus;
  if (typeof object?.bucketName !== 'string' || typeof object.objectKey !== 'string') {
    throw new Error('scan result event without detail.s3ObjectDetails.bucketName and objectKey');
  }
  if (!isScanVerdict(verdict)) throw new Error(`scan result event with an unknown scanResultStatus (${String(verdict)})`);
  return {
    bucket: object.bucketName,
    key: object.objectKey,
    ...(typeof object.versionId === 'string' && object.versionId !== '' ? { versionId: object.versionId } : {}),
    ...(typeof object.eTag === 'string' && object.eTag !== '' ? { eTag: object.eTag.replace(/"/g, '') } : {}),
    verdict,
    ...(typeof m.time === 'string' ? { time: m.time } : {}),
    ...(typeof m.region === 'string' ? { region: m.region } : {}),
  };
}

/** The rejection a verdict causes, or undefined for `NO_THREATS_FOUND`. */
export function scanRejection(verdict: ScanVerdict): { code: ScanRejectionCode; message: string } | undefined {
  switch (verdict) {
    case 'NO_THREATS_FOUND':
      return undefined;
    case 'THREATS_FOUND':
      return { code: 'MALWARE_FOUND', message: 'GuardDuty Malware Protection found a threat in the object' };
    case 'UNSUPPORTED':
      return { code: 'MALWARE_SCAN_UNSUPPORTED', message: 'GuardDuty could not scan the object (UNSUPPORTED: e.g. a password-protected archive or a file above its size limit); unscanned files are never served' };
    case 'ACCESS_DENIED':
      return { code: 'MALWARE_SCAN_ACCESS_DENIED', message: 'GuardDuty could not read the object (ACCESS_DENIED: check the protection plan\'s role and the KMS key policy); unscanned files are never served' };
    case 'FAILED':
      return { code: 'MALWARE_SCAN_FAILED', message: 'GuardDuty\'s scan of the object failed (FAILED); unscanned files are never served' };
  }
}

/**
 * The message the verifier sends itself (delayed) when an upload's bytes passed but no scan result is
 * known: when it comes back and the upload is still pending, the verifier reads GuardDuty's tag (the
 * event may have been lost) or logs `scan-overdue` (the alarm's metric).
 */
export interface ScanDeadlineMessage {
  readonly scanDeadline: { readonly key: string; readonly versionId?: string; readonly eTag: string };
}

export function isScanDeadlineMessage(message: unknown): message is ScanDeadlineMessage {
  const d = (message as Partial<ScanDeadlineMessage> | undefined)?.scanDeadline;
  return typeof d?.key === 'string' && typeof d.eTag === 'string';
}

/**
 * A scan result event in EventBridge's shape (what GuardDuty publishes): used by the local stack's
 * `injectScanResult` and by tests.
 */
export function scanResultEvent(result: Omit<ScanResult, 'time' | 'region'> & { readonly time?: string; readonly region?: string; readonly account?: string }): Record<string, unknown> {
  return {
    'version': '0',
    'id': `scan-${result.key}-${result.versionId ?? 'null'}`,
    'detail-type': SCAN_RESULT_DETAIL_TYPE,
    'source': SCAN_EVENT_SOURCE,
    'account': result.account ?? '000000000000',
    'time': result.time ?? new Date().toISOString(),
    'region': result.region ?? 'us-east-1',
    'resources': [],
    'detail': {
      schemaVersion: '1.0',
      scanStatus: result.verdict === 'FAILED' ? 'FAILED' : result.verdict === 'UNSUPPORTED' || result.verdict === 'ACCESS_DENIED' ? 'SKIPPED' : 'COMPLETED',
      resourceType: 'S3_OBJECT',
      s3ObjectDetails: {
        bucketName: result.bucket,
        objectKey: result.key,
        ...(result.eTag ? { eTag: result.eTag } : {}),
        ...(result.versionId ? { versionId: result.versionId } : {}),
        s3Throttled: false,
      },
      scanResultDetails: { scanResultStatus: result.verdict, threats: result.verdict === 'THREATS_FOUND' ? [{ name: 'EICAR-Test-File (not a virus)' }] : null },
    },
  };
}
