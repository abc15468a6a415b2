/**
 * Custom resource (CloudFormation, direct Lambda-backed): on Create makes an RSA 2048 key pair, stores the
 * private key PEM in the construct's secret (PutSecretValue) and returns only the public key PEM
 * (`PublicKey`); on Update reads the secret back and returns the same public key; on Delete does nothing
 * (the secret goes with the stack). The private key never leaves Secrets Manager and this function.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { request } from 'node:https';
import type * as SecretsManager from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';

/** The two Secrets Manager calls the custom resource makes. */
export interface SecretStore {
  put(secretArn: string, value: string): Promise<void>;
  get(secretArn: string): Promise<string>;
}

/**
 * The custom resource's answer: on Create a new RSA 2048 pair (private key PKCS#8 PEM into the secret),
 * on Update the public key of the stored private key, on Delete nothing. Returns the public key PEM, or ''.
 */
export async function keyPairPublicKey(requestType: string, secretArn: string, secrets: SecretStore): Promise<string> {
  if (requestType === 'Create') {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await secrets.put(secretArn, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    return pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
  if (requestType === 'Update') {
    return createPublicKey(createPrivateKey(await secrets.get(secretArn))).export({ type: 'spki', format: 'pem' }).toString();
  }
  return '';
}

let sdkSecrets: SecretStore | undefined;
function secretsManager(): SecretStore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sm = require('@aws-sdk/client-secrets-manager') as typeof SecretsManager;
  const client = new sm.SecretsManagerClient({});
  return {
    put: async (SecretId, SecretString) => void await client.send(new sm.PutSecretValueCommand({ SecretId, SecretString })),
    get: async (SecretId) => (await client.send(new sm.GetSecretValueCommand({ SecretId }))).SecretString ?? '',
  };
}

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  const secretArn = String(event.ResourceProperties.SecretArn ?? '');
  try {
    const publicKey = await keyPairPublicKey(event.RequestType, secretArn, sdkSecrets ??= secretsManager());
    await respond(event, context, 'SUCCESS', secretArn || context.logStreamName, publicKey ? { PublicKey: publicKey } : {});
  } catch (err) {
    await respond(event, context, 'FAILED', secretArn || context.logStreamName, {}, err instanceof Error ? err.message : String(err));
  }
}

function respond(event: CloudFormationCustomResourceEvent, context: Context, status: 'SUCCESS' | 'FAILED',
  physicalId: string, data: Record<string, string>, reason?: string): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason ?? `See ${context.logStreamName}`,
    PhysicalResourceId: event.RequestType === 'Create' ? physicalId : event.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  });
  return new Promise((resolve, reject) => {
    const req = request(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}
