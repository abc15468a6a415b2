/**
 * The key-pair custom resource's logic: the private key goes only into the secret, the public key
 * returned is its pair, an update returns the same public key. Secrets Manager cannot run locally:
 * the store here is an in-memory map of secret ARN → value.
 */
import { createPublicKey, createSign, createVerify } from 'node:crypto';
import { keyPairPublicKey, SecretStore } from '../../src/delivery/key-pair.lambda';

function memorySecrets(): SecretStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    put: async (arn, value) => void values.set(arn, value),
    get: async (arn) => values.get(arn) ?? '',
  };
}

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf';

test('Create stores an RSA 2048 private key and returns its public key (a signature verifies); Update returns the same; Delete nothing', async () => {
  const secrets = memorySecrets();
  const publicPem = await keyPairPublicKey('Create', ARN, secrets);
  const privatePem = secrets.values.get(ARN)!;
  expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  expect(publicPem).not.toContain('PRIVATE');
  expect(createPublicKey(publicPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
  const signature = createSign('RSA-SHA256').update('policy').sign(privatePem);
  expect(createVerify('RSA-SHA256').update('policy').verify(publicPem, signature)).toBe(true);
  expect(await keyPairPublicKey('Update', ARN, secrets)).toBe(publicPem);
  expect(await keyPairPublicKey('Delete', ARN, secrets)).toBe('');
  expect(secrets.values.get(ARN)).toBe(privatePem);
});
