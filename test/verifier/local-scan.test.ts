/**
 * Malware scanning end to end on the local stack: the real signer, the S3 stand-in, the real verifier,
 * the CDN gate; GuardDuty's part (its tag, its EventBridge event) injected with `injectScanResult`.
 */
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { makePng } from './samples';
import type { ScanVerdict } from '../../src/contract/malware-scan';
import type { RejectionRecord } from '../../src/contract/queue-message';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { drain, putSigned, recordsOf, signFor } from '../local/helpers';

async function upload(stack: LocalStack, body: Buffer, user = 'alice'): Promise<string> {
  const signed = await signFor(stack, body, { contentType: 'image/png' }, user);
  const put = await putSigned(signed.url, signed.headers ?? {}, body);
  if (put.status !== 200) throw new Error(`upload failed: ${put.status} ${put.text}`);
  return signed.key;
}

const cdnStatus = async (stack: LocalStack, key: string) =>
  (await fetch(`${stack.cdnUrl}/${key.split('/').map(encodeURIComponent).join('/')}`)).status;

const tagsOf = async (stack: LocalStack, key: string) =>
  Object.fromEntries(((await stack.s3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }))).TagSet ?? [])
    .map((t) => [t.Key, t.Value]));

const announced = async (stack: LocalStack) => recordsOf(await drain(stack));

async function rejections(stack: LocalStack): Promise<RejectionRecord[]> {
  return (await drain(stack, stack.rejectionQueueUrl)).map((m) => JSON.parse(m.Body ?? '{}') as RejectionRecord);
}

describe('malwareScanning on the local stack', () => {
  let stack: LocalStack;
  const log: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    stack = await startLocalStack({
      log: () => undefined,
      malwareScanning: true,
      scanDeadlineSeconds: 0,
      verifierLog: (line) => log.push(JSON.parse(line)),
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await stack.flush();
    await drain(stack);
    await drain(stack, stack.rejectionQueueUrl);
    log.length = 0;
  });

  test('bytes first: not served nor announced until the clean scan result; then served and announced once', async () => {
    const key = await upload(stack, makePng(3, 3));
    await stack.flush();
    expect(await cdnStatus(stack, key)).toBe(403);
    expect(await announced(stack)).toEqual([]);
    expect(await tagsOf(stack, key)).toMatchObject({ 'direct-upload:scan': 'pending' });

    await stack.injectScanResult(key, 'NO_THREATS_FOUND');
    expect(await cdnStatus(stack, key)).toBe(200);
    const records = await announced(stack);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ verification: { status: 'verified', malwareScan: 'NO_THREATS_FOUND' } });
    expect(await tagsOf(stack, key)).toMatchObject({ 'GuardDutyMalwareScanStatus': 'NO_THREATS_FOUND', 'direct-upload:verified': 'true', 'direct-upload:scan': 'NO_THREATS_FOUND' });

    // Duplicate and late events change nothing.
    await stack.injectScanResult(key, 'NO_THREATS_FOUND');
    expect(await announced(stack)).toEqual([]);
  });

  test('GuardDuty\'s tag alone triggers nothing; its event completes the upload once; a duplicate event does nothing', async () => {
    const key = await upload(stack, makePng(4, 4));
    await stack.flush();
    await stack.injectScanResult(key, 'NO_THREATS_FOUND', { event: false });
    expect(await cdnStatus(stack, key)).toBe(403);
    await stack.injectScanResult(key, 'NO_THREATS_FOUND', { tag: false });
    expect(await cdnStatus(stack, key)).toBe(200);
    expect(await announced(stack)).toHaveLength(1);
    await stack.injectScanResult(key, 'NO_THREATS_FOUND', { tag: false });
    expect(await announced(stack)).toEqual([]);
  });

  test.each<[ScanVerdict, string]>([
    ['THREATS_FOUND', 'MALWARE_FOUND'],
    ['UNSUPPORTED', 'MALWARE_SCAN_UNSUPPORTED'],
    ['ACCESS_DENIED', 'MALWARE_SCAN_ACCESS_DENIED'],
    ['FAILED', 'MALWARE_SCAN_FAILED'],
  ])('%s: never served nor announced; removed and recorded with the verdict', async (verdict, code) => {
    const key = await upload(stack, makePng(2, 2), 'mallory');
    await stack.flush();
    await stack.injectScanResult(key, verdict);
    expect(await cdnStatus(stack, key)).not.toBe(200);
    expect(await announced(stack)).toEqual([]);
    expect(await rejections(stack)).toMatchObject([{ key, rejection: { code }, malwareScan: verdict, action: 'deleted' }]);
  });

  test('a missing scan result: the upload stays pending (never served) and the deadline reports it overdue', async () => {
    const key = await upload(stack, makePng(5, 5));
    await stack.flush();
    await stack.flush(); // the deadline (delay 0 here, 900 s in the construct)
    expect(log.filter((l) => l.outcome === 'scan-overdue')).toMatchObject([{ key }]);
    expect(await cdnStatus(stack, key)).toBe(403);
    expect(await announced(stack)).toEqual([]);
  });
});
