import { createSequencer, decodeS3EventKey, encodeS3EventKey, objectCreatedEvent, s3TestEvent } from '../../src/local/s3-events';

describe('encodeS3EventKey', () => {
  test.each([
    ['uploads/a/b.png', 'uploads/a/b.png'],
    ['uploads/red flower.jpg', 'uploads/red+flower.jpg'],
    ['uploads/c++ & more.png', 'uploads/c%2B%2B+%26+more.png'],
    ['uploads/ü 日本.png', 'uploads/%C3%BC+%E6%97%A5%E6%9C%AC.png'],
    ['uploads/😀.png', 'uploads/%F0%9F%98%80.png'],
    ['uploads/x=1:2;3,4?#%.png', 'uploads/x%3D1%3A2%3B3%2C4%3F%23%25.png'],
    ['uploads/(1) copy~!\'.png', 'uploads/%281%29+copy%7E%21%27.png'],
    ['uploads/keep-_.*', 'uploads/keep-_.*'],
  ])('%s → %s', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
    expect(decodeS3EventKey(encoded)).toBe(key);
  });

  test('a literal + in a key is not a space after decoding', () => {
    expect(decodeS3EventKey(encodeS3EventKey('a+b c'))).toBe('a+b c');
    expect(decodeS3EventKey('a+b%2Bc')).toBe('a b+c');
  });
});

describe('objectCreatedEvent', () => {
  test('has the shape S3 sends to SQS', () => {
    const time = new Date('2026-01-02T03:04:05.678Z');
    const event = objectCreatedEvent({
      eventName: 'ObjectCreated:Put',
      bucket: 'my-bucket',
      key: 'uploads/u/a b.png',
      size: 42,
      eTag: 'd41d8cd98f00b204e9800998ecf8427e',
      sourceIp: '127.0.0.1',
      time,
      sequencer: '0055AED6DCD90281E5',
    }, { region: 'eu-west-1' });
    expect(event).toEqual({
      Records: [{
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: '2026-01-02T03:04:05.678Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: expect.any(String) },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': expect.stringMatching(/^[0-9A-F]{16}$/), 'x-amz-id-2': expect.any(String) },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'direct-upload-local',
          bucket: { name: 'my-bucket', ownerIdentity: { principalId: expect.any(String) }, arn: 'arn:aws:s3:::my-bucket' },
          object: { key: 'uploads/u/a+b.png', size: 42, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
        },
      }],
    });
  });

  test('carries object.versionId, as S3 does for a versioned bucket', () => {
    const event = objectCreatedEvent({
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      bucket: 'b',
      key: 'k',
      size: 1,
      eTag: 'e',
      versionId: '3HL4kqtJvjVBH40Nrjfkd3_7WHsyX5uz',
      sourceIp: '127.0.0.1',
      time: new Date(0),
      sequencer: '00',
    }, { region: 'eu-west-1' });
    expect(event.Records[0].s3.object).toEqual({ key: 'k', size: 1, eTag: 'e', versionId: '3HL4kqtJvjVBH40Nrjfkd3_7WHsyX5uz', sequencer: '00' });
  });

  test('the test event names the bucket', () => {
    expect(s3TestEvent('b', new Date(0))).toEqual({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '1970-01-01T00:00:00.000Z',
      Bucket: 'b',
      RequestId: expect.any(String),
      HostId: expect.any(String),
    });
  });
});

describe('createSequencer', () => {
  test('strictly increasing hex, also within one millisecond and when the clock goes back', () => {
    const clock = [1000, 1000, 1000, 999, 2000];
    const next = createSequencer(() => clock.shift() ?? 0);
    const values = Array.from({ length: 5 }, () => next());
    for (const v of values) expect(v).toMatch(/^[0-9A-F]{18}$/);
    const numbers = values.map((v) => BigInt(`0x${v}`));
    for (let i = 1; i < numbers.length; i++) expect(numbers[i] > numbers[i - 1]).toBe(true);
  });
});
