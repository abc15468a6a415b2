/**
 * Malware scanning in the verifier handler (in-memory fakes): verified only when the bytes passed AND
 * GuardDuty found no threats, in either order of arrival; every other verdict fails closed.
 */
import { rejections, setup, verified } from './fakes';
import { HTML, makePng } from './samples';
import { SCAN_DEADLINE_SECONDS_ENV, VERIFICATION_QUEUE_URL_ENV } from '../../src/contract/environment';
import { GUARDDUTY_SCAN_TAG, parseScanResultEvent, scanResultEvent, ScanVerdict, SCAN_VERDICTS } from '../../src/contract/malware-scan';
import { ETAG_TAG, REASON_TAG, REJECTED_TAG, rejectionReasonTag, SCAN_TAG, VERIFIED_TAG } from '../../src/contract/queue-message';
import { loadVerifierConfig } from '../../src/verifier/config';

const VERIFICATION_URL = 'http://sqs.local/verification';
const KEY = 'uploads/alice/photo 1.png';

function scanning(overrides: { rejectedObjects?: 'delete' | 'retain'; tagUnclaimed?: boolean } = {}) {
  const t = setup({ versioned: true, ...overrides, malwareScan: { deadlineSeconds: 900, verificationQueueUrl: VERIFICATION_URL } });
  const eTag = t.put(KEY, makePng(4, 4), 'image/png');
  const versionId = t.objects.get(KEY)!.versionId!;
  /** GuardDuty: tags the version (merging, as its role reads the tags first), then publishes the result. */
  const guardDutyTags = (verdict: ScanVerdict) => {
    const o = t.objects.get(KEY)!;
    o.tags = { ...o.tags, [GUARDDUTY_SCAN_TAG]: verdict };
  };
  const scanEvent = (verdict: ScanVerdict) => scanResultEvent({ bucket: 'b', key: KEY, versionId, eTag, verdict });
  const deadlines = () => t.sent.filter((s) => s.queueUrl === VERIFICATION_URL);
  return { ...t, eTag, versionId, guardDutyTags, scanEvent, deadlines, tags: () => t.objects.get(KEY)?.tags };
}

describe('both checks, either order', () => {
  test('bytes first: pending (not tagged verified, not announced, a deadline sent), then the clean scan completes it', async () => {
    const t = scanning();
    expect(await t.deliver(t.eventFor(KEY))).toEqual({ batchItemFailures: [] });
    expect(t.tags()).toEqual({ [SCAN_TAG]: 'pending', [ETAG_TAG]: t.eTag });
    expect(verified(t.sent)).toEqual([]);
    expect(t.deadlines()).toEqual([
      { queueUrl: VERIFICATION_URL, body: { scanDeadline: { key: KEY, versionId: t.versionId, eTag: t.eTag } }, delaySeconds: 900 },
    ]);

    t.guardDutyTags('NO_THREATS_FOUND');
    await t.deliver(t.scanEvent('NO_THREATS_FOUND'));
    expect(t.tags()).toEqual({ [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND', [VERIFIED_TAG]: 'true', [ETAG_TAG]: t.eTag, [SCAN_TAG]: 'NO_THREATS_FOUND' });
    const [message] = verified(t.sent);
    expect(message.Records[0]).toMatchObject({
      eventSource: 'aws:s3',
      s3: { bucket: { name: 'b' }, object: { key: 'uploads/alice/photo+1.png', eTag: t.eTag, versionId: t.versionId } },
      verification: { status: 'verified', malwareScan: 'NO_THREATS_FOUND', versionId: t.versionId },
    });
  });

  test('scan first: the scan event checks the bytes itself and completes; the later S3 event is a duplicate', async () => {
    const t = scanning();
    t.guardDutyTags('NO_THREATS_FOUND');
    await t.deliver(t.scanEvent('NO_THREATS_FOUND'));
    expect(t.tags()![VERIFIED_TAG]).toBe('true');
    expect(verified(t.sent)).toHaveLength(1);
    await t.deliver(t.eventFor(KEY));
    expect(verified(t.sent)).toHaveLength(1);
    expect(t.deadlines()).toEqual([]);
    expect(t.logged.at(-1)).toMatchObject({ outcome: 'duplicate', trigger: 's3' });
  });

  test('scan tagged but its event not yet processed: the S3 event reads GuardDuty\'s tag and completes', async () => {
    const t = scanning();
    t.guardDutyTags('NO_THREATS_FOUND');
    await t.deliver(t.eventFor(KEY));
    expect(t.tags()![VERIFIED_TAG]).toBe('true');
    expect(verified(t.sent)[0].Records[0]).toMatchObject({ eventName: 'ObjectCreated:Put', verification: { malwareScan: 'NO_THREATS_FOUND' } });
  });

  test('a clean scan never passes bad bytes: an HTML file labelled image/png is rejected on the scan event', async () => {
    const t = scanning();
    t.put(KEY, HTML, 'image/png');
    const o = t.objects.get(KEY)!;
    await t.deliver(scanResultEvent({ bucket: 'b', key: KEY, versionId: o.versionId, eTag: o.eTag, verdict: 'NO_THREATS_FOUND' }));
    expect(verified(t.sent)).toEqual([]);
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'ACTIVE_CONTENT' }, malwareScan: 'NO_THREATS_FOUND', versionId: o.versionId }]);
  });

  test('a duplicate scan event after completion does nothing more', async () => {
    const t = scanning();
    await t.deliver(t.eventFor(KEY));
    await t.deliver(t.scanEvent('NO_THREATS_FOUND'));
    await t.deliver(t.scanEvent('NO_THREATS_FOUND'));
    await t.deliver(t.eventFor(KEY));
    expect(verified(t.sent)).toHaveLength(1);
    expect(t.deadlines()).toHaveLength(1);
  });

  test('a redelivered S3 event while pending sends no second deadline and writes no second tag', async () => {
    const t = scanning();
    await t.deliver(t.eventFor(KEY));
    const tagWrites = t.calls.filter((c) => c.startsWith('tag ')).length;
    await t.deliver(t.eventFor(KEY));
    expect(t.deadlines()).toHaveLength(1);
    expect(t.calls.filter((c) => c.startsWith('tag ')).length).toBe(tagWrites);
  });
});

describe('verdicts other than NO_THREATS_FOUND are never served nor announced', () => {
  const failing = SCAN_VERDICTS.filter((v) => v !== 'NO_THREATS_FOUND');
  const codes: Record<string, string> = {
    THREATS_FOUND: 'MALWARE_FOUND',
    UNSUPPORTED: 'MALWARE_SCAN_UNSUPPORTED',
    ACCESS_DENIED: 'MALWARE_SCAN_ACCESS_DENIED',
    FAILED: 'MALWARE_SCAN_FAILED',
  };
  test.each(failing.flatMap((v) => [[v, 'bytes first'], [v, 'scan first']]))('%s (%s): recorded with the verdict, deleted', async (verdict, order) => {
    const t = scanning();
    if (order === 'bytes first') await t.deliver(t.eventFor(KEY));
    t.guardDutyTags(verdict as ScanVerdict);
    await t.deliver(t.scanEvent(verdict as ScanVerdict));
    if (order === 'scan first') await t.deliver(t.eventFor(KEY));
    expect(verified(t.sent)).toEqual([]);
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: codes[verdict] }, malwareScan: verdict, action: 'deleted', versionId: t.versionId }]);
    expect(t.objects.has(KEY)).toBe(false);
    expect(t.logged.find((l) => l.outcome === 'rejected')).toMatchObject({ scan: verdict, code: codes[verdict] });
  });

  test('a threat leaves no bytes behind in a versioned bucket: its exact version is deleted, no delete marker keeps it for a day', async () => {
    for (const order of ['bytes first', 'scan first']) {
      const t = scanning();
      if (order === 'bytes first') await t.deliver(t.eventFor(KEY));
      t.guardDutyTags('THREATS_FOUND');
      await t.deliver(t.scanEvent('THREATS_FOUND'));
      if (order === 'scan first') await t.deliver(t.eventFor(KEY));
      expect([order, t.objects.versions(KEY)]).toEqual([order, []]);
      expect(t.calls).toContain(`delete ${KEY}@${t.versionId}`);
      expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'MALWARE_FOUND' }, action: 'deleted' }]);
    }
    // Other verdicts say nothing about the bytes: the version stays, tagged with the reason, behind a delete marker.
    const t = scanning();
    await t.deliver(t.eventFor(KEY));
    t.guardDutyTags('UNSUPPORTED');
    await t.deliver(t.scanEvent('UNSUPPORTED'));
    expect(t.objects.has(KEY)).toBe(false);
    expect(t.objects.versions(KEY).map((v) => [v.versionId, v.deleteMarker === true, v.tags[REJECTED_TAG]]))
      .toEqual([[t.versionId, false, 'MALWARE_SCAN_UNSUPPORTED'], [expect.stringMatching(/^marker/), true, undefined]]);
  });

  test('with retention a threat is quarantined in place: tagged verified=false with the reason and the verdict', async () => {
    const t = scanning({ rejectedObjects: 'retain' });
    await t.deliver(t.eventFor(KEY));
    t.guardDutyTags('THREATS_FOUND');
    await t.deliver(t.scanEvent('THREATS_FOUND'));
    expect(t.tags()).toEqual({
      [GUARDDUTY_SCAN_TAG]: 'THREATS_FOUND',
      [VERIFIED_TAG]: 'false',
      [ETAG_TAG]: t.eTag,
      [REJECTED_TAG]: 'MALWARE_FOUND',
      [REASON_TAG]: rejectionReasonTag('MALWARE_FOUND', rejections(t.sent)[0].rejection.message),
      [SCAN_TAG]: 'THREATS_FOUND',
    });
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'MALWARE_FOUND' }, action: 'retained' }]);
    await t.deliver(t.scanEvent('THREATS_FOUND'));
    expect(rejections(t.sent)).toHaveLength(1);
  });

  test('the event\'s verdict wins over a tag an earlier writer left (a lost or stale tag cannot pass a threat)', async () => {
    const t = scanning();
    t.guardDutyTags('NO_THREATS_FOUND');
    // The event says THREATS_FOUND for this version: that is what GuardDuty published.
    await t.deliver(t.scanEvent('THREATS_FOUND'));
    expect(verified(t.sent)).toEqual([]);
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'MALWARE_FOUND' } }]);
  });
});

describe('late, missing and foreign scan results', () => {
  test('a missing scan: the deadline finds the upload still pending and logs scan-overdue; it stays unserved', async () => {
    const t = scanning();
    await t.deliver(t.eventFor(KEY));
    await t.deliver(t.deadlines()[0].body);
    expect(t.logged.at(-1)).toMatchObject({ outcome: 'scan-overdue', key: KEY, deadlineSeconds: 900 });
    expect(t.tags()![VERIFIED_TAG]).toBeUndefined();
    expect(verified(t.sent)).toEqual([]);
    expect(t.deadlines()).toHaveLength(1);
  });

  test('a lost scan event: the deadline reads GuardDuty\'s tag and completes the upload', async () => {
    const t = scanning();
    await t.deliver(t.eventFor(KEY));
    t.guardDutyTags('NO_THREATS_FOUND');
    await t.deliver(t.deadlines()[0].body);
    expect(t.tags()![VERIFIED_TAG]).toBe('true');
    expect(verified(t.sent)).toHaveLength(1);
  });

  test('a late scan event, after the deadline, still completes the upload', async () => {
    const t = scanning();
    await t.deliver(t.eventFor(KEY));
    await t.deliver(t.deadlines()[0].body);
    await t.deliver(t.scanEvent('NO_THREATS_FOUND'));
    expect(t.tags()![VERIFIED_TAG]).toBe('true');
  });

  test('a scan result for a deleted (rejected) version is done: nothing sent, nothing fails', async () => {
    const t = scanning();
    t.put(KEY, HTML, 'image/png');
    const o = t.objects.get(KEY)!;
    await t.deliver(t.eventFor(KEY));
    const sent = t.sent.length;
    expect(await t.deliver(scanResultEvent({ bucket: 'b', key: KEY, versionId: o.versionId, eTag: o.eTag, verdict: 'NO_THREATS_FOUND' }))).toEqual({ batchItemFailures: [] });
    expect(t.sent.length).toBe(sent);
  });

  test('a scan result for another bucket or outside the prefix is ignored; a malformed one fails (retried, then dead-lettered)', async () => {
    const t = scanning();
    await t.deliver(scanResultEvent({ bucket: 'other', key: KEY, verdict: 'NO_THREATS_FOUND' }));
    await t.deliver(scanResultEvent({ bucket: 'b', key: 'elsewhere/x.png', verdict: 'NO_THREATS_FOUND' }));
    expect(t.sent).toEqual([]);
    const bad = scanResultEvent({ bucket: 'b', key: KEY, verdict: 'NO_THREATS_FOUND' }) as any;
    bad.detail.scanResultDetails.scanResultStatus = 'MAYBE';
    expect(await t.deliver(bad)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
  });

  test('without malwareScanning a scan result is ignored and an upload is verified on its bytes alone, as before', async () => {
    const t = setup({ versioned: true });
    t.put(KEY, makePng(4, 4), 'image/png');
    await t.deliver(scanResultEvent({ bucket: 'b', key: KEY, verdict: 'THREATS_FOUND' }));
    expect(t.sent).toEqual([]);
    await t.deliver(t.eventFor(KEY));
    expect(verified(t.sent)[0].Records[0].verification.malwareScan).toBeUndefined();
    expect(t.objects.get(KEY)!.tags[SCAN_TAG]).toBeUndefined();
  });
});

describe('the scan result event and the configuration', () => {
  test('reads GuardDuty\'s documented event shape (plain key, quoted ETag)', () => {
    expect(parseScanResultEvent({
      'source': 'aws.guardduty',
      'detail-type': 'GuardDuty Malware Protection Object Scan Result',
      'time': '2024-06-12T00:00:00Z',
      'detail': {
        schemaVersion: '1.0',
        scanStatus: 'COMPLETED',
        resourceType: 'S3_OBJECT',
        s3ObjectDetails: { bucketName: 'b', objectKey: 'uploads/a b.png', eTag: '"abc"', versionId: 'v1', s3Throttled: false },
        scanResultDetails: { scanResultStatus: 'THREATS_FOUND', threats: [{ name: 'EICAR-Test-File (not a virus)' }] },
      },
    })).toEqual({ bucket: 'b', key: 'uploads/a b.png', eTag: 'abc', versionId: 'v1', verdict: 'THREATS_FOUND', time: '2024-06-12T00:00:00Z' });
  });

  test('the deadline and the verification queue come from the environment; broken values are named', () => {
    const base = {
      DIRECT_UPLOAD_POLICY: JSON.stringify({ prefix: 'uploads', allowedContentTypes: ['image/png'], maxFileSize: 10, expiresInSeconds: 300, accelerate: false, auth: 'iam', identityClaim: 'sub' }),
      DIRECT_UPLOAD_BUCKET: 'b',
      DIRECT_UPLOAD_VERIFIED_QUEUE_URL: 'https://sqs/v',
      DIRECT_UPLOAD_REJECTION_QUEUE_URL: 'https://sqs/r',
    };
    expect(loadVerifierConfig(base).malwareScan).toBeUndefined();
    expect(loadVerifierConfig({ ...base, [SCAN_DEADLINE_SECONDS_ENV]: '600', [VERIFICATION_QUEUE_URL_ENV]: 'https://sqs/q' }).malwareScan)
      .toEqual({ deadlineSeconds: 600, verificationQueueUrl: 'https://sqs/q' });
    expect(() => loadVerifierConfig({ ...base, [SCAN_DEADLINE_SECONDS_ENV]: '901' })).toThrow(/DIRECT_UPLOAD_SCAN_DEADLINE_SECONDS.*DIRECT_UPLOAD_VERIFICATION_QUEUE_URL/);
  });
});

describe('with unclaimed uploads expiring (tagUnclaimed)', () => {
  const UNCLAIMED = 'direct-upload:unclaimed';
  test('bytes first: the pending tag is not unclaimed; the clean scan result completes it with unclaimed=true in its one write', async () => {
    const t = scanning({ tagUnclaimed: true });
    await t.deliver(t.eventFor(KEY));
    expect(t.tags()).toEqual({ [SCAN_TAG]: 'pending', [ETAG_TAG]: t.eTag });
    t.guardDutyTags('NO_THREATS_FOUND');
    await t.deliver(t.scanEvent('NO_THREATS_FOUND'));
    expect(t.tags()).toEqual({
      [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND', [VERIFIED_TAG]: 'true', [ETAG_TAG]: t.eTag, [SCAN_TAG]: 'NO_THREATS_FOUND', [UNCLAIMED]: 'true',
    });
    expect(verified(t.sent)).toHaveLength(1);
  });

  test('scan first: the S3 event completes it, also with unclaimed=true', async () => {
    const t = scanning({ tagUnclaimed: true });
    t.guardDutyTags('NO_THREATS_FOUND');
    await t.deliver(t.eventFor(KEY));
    expect(t.tags()).toMatchObject({ [VERIFIED_TAG]: 'true', [UNCLAIMED]: 'true' });
  });

  test('a threat is rejected and retained without unclaimed (only verified uploads are marked)', async () => {
    const t = scanning({ tagUnclaimed: true, rejectedObjects: 'retain' });
    t.guardDutyTags('THREATS_FOUND');
    await t.deliver(t.scanEvent('THREATS_FOUND'));
    expect(t.tags()![VERIFIED_TAG]).toBe('false');
    expect(t.tags()).not.toHaveProperty(UNCLAIMED);
  });
});
