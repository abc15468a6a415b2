/**
 * Smoke run of figure 9 (bench/figures/album.ts): it runs end to end with finite numbers, and what does not
 * depend on the machine holds: 1 signer request per album against 100, and a cheaper bill for the batch.
 */
import { ALBUM_FILES, albumCost, runAlbum } from '../../bench/figures/album';
import { FIGURES } from '../../bench/run';

test('(9) album: 1 signer request instead of 100, and the batch\'s bill is the smaller', async () => {
  const result = await runAlbum({ quick: true, log: () => undefined });
  expect(result.id).toBe(9);
  for (const r of result.rows) expect({ row: r.name, finite: Number.isFinite(r.value) }).toEqual({ row: r.name, finite: true });
  const value = (name: string) => result.rows.find((r) => r.name === name)?.value;
  expect(value('batch: signer requests per album')).toBe(1);
  expect(value('one by one: signer requests per album')).toBe(ALBUM_FILES);
  expect(value('one by one / batch, signer bill')).toBeGreaterThan(1);
  expect(result.goals.map((g) => g.met)).toEqual([true]);
  expect(FIGURES[7]).toBeDefined();
});

test('albumCost: requests and rounded-up milliseconds are priced per invocation', () => {
  // 100 invocations of 0.01 ms bill 100 ms; one of 1 ms bills 1 ms (at 256 MB, 1 ms on one core is ~6.9 ms in Lambda: 7 billed).
  expect(albumCost(100, 0.01).billedMs).toBe(1);
  expect(albumCost(1, 1).billedMs).toBe(7);
  expect(albumCost(100, 0.01).dollarsPerMillionAlbums).toBeGreaterThan(100 * 1.2);
  expect(albumCost(1, 1).dollarsPerMillionAlbums).toBeLessThan(2);
});
