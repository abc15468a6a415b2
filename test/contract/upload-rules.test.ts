import { formatBytes } from '../../src/contract/upload-rules';

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
