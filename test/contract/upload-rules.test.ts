import { formatBytes, parseSignerPolicy, serializeSignerPolicy, SignerPolicy } from '../../src/contract/upload-rules';
import { testPolicy } from '../signer/helpers';

const SIGNER_POLICY: SignerPolicy = testPolicy();

describe('parseSignerPolicy', () => {
  test('reads back what serializeSignerPolicy wrote', () => {
    expect(parseSignerPolicy(serializeSignerPolicy(SIGNER_POLICY))).toEqual(SIGNER_POLICY);
  });

  test.each(['multipartThreshold', 'partSize', 'allowDeleteObject', 'auth', 'expiresInSeconds'])('refuses a policy without %s (nothing is defaulted)', (field) => {
    const { [field as keyof SignerPolicy]: _, ...rest } = SIGNER_POLICY;
    expect(() => parseSignerPolicy(JSON.stringify(rest), 'POLICY')).toThrow(new RegExp(`POLICY has invalid fields: ${field}`));
  });

  test('refuses JSON that is not an object', () => {
    expect(() => parseSignerPolicy('[]', 'POLICY')).toThrow('POLICY is not a JSON object');
  });
});

describe('formatBytes (one formatter for the construct\'s and the signer\'s messages)', () => {
  test.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [1000, '1000 bytes'],
    [1024, '1 KiB (1024 bytes)'],
    [25 * 1024 * 1024, '25 MiB (26214400 bytes)'],
    [1536 * 1024, '1536 KiB (1572864 bytes)'],
    [5 * 1024 ** 3, '5 GiB (5368709120 bytes)'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test.each([
    [0, '0 bytes'],
    [4 * 1024 ** 2, '4 MiB'],
    [6 * 1024 ** 4, '6 TiB'],
    [1536, '1536 bytes'],
  ])('without the byte count: %d → %s', (bytes, text) => {
    expect(formatBytes(bytes, false)).toBe(text);
  });
});
