/**
 * The signer's signed-delivery configuration and the /downloads route's answers that need no S3: a broken
 * DIRECT_UPLOAD_DOWNLOADS is a deployment fault (500 on every route, reason logged once); public mode
 * answers 404 on /downloads.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { iamAuthorizer, makeEvent, testEnv } from './helpers';
import { DOWNLOADS_ENV, parseDownloadSettings } from '../../src/contract/environment';
import { createSignerHandlerFromEnv } from '../../src/signer/handler';

const ALICE = iamAuthorizer('arn:aws:iam::123456789012:user/alice');

function downloadEvent(body: unknown): APIGatewayProxyEventV2 {
  return makeEvent({ path: '/downloads', body, authorizer: ALICE }) as unknown as APIGatewayProxyEventV2;
}

describe('parseDownloadSettings', () => {
  test('unset is public delivery; valid settings are read as given', () => {
    expect(parseDownloadSettings(undefined)).toBeUndefined();
    const settings = { keyPairId: 'K2JCJMDEHXQW5F', secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:k', expiresInSeconds: 300 };
    expect(parseDownloadSettings(JSON.stringify(settings))).toEqual(settings);
  });

  test('malformed settings name the variable and each field', () => {
    expect(() => parseDownloadSettings('{')).toThrow(`${DOWNLOADS_ENV} is not valid JSON`);
    expect(() => parseDownloadSettings(JSON.stringify({ keyPairId: 'a b', secretArn: 'x', expiresInSeconds: 0 })))
      .toThrow(/keyPairId must be a CloudFront public key id, secretArn must be a Secrets Manager secret ARN, expiresInSeconds must be an integer from 1 to 604800/);
  });
});

describe('POST /downloads without signed delivery', () => {
  test('answers 404 NOT_FOUND naming the delivery mode', async () => {
    const handler = createSignerHandlerFromEnv(testEnv());
    const result = await handler(downloadEvent({ key: 'uploads/x/y.png' }));
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(String(result.body)).error).toEqual({ code: 'NOT_FOUND', message: expect.stringMatching(/DeliveryMode.PUBLIC/) });
  });

  test('a broken DIRECT_UPLOAD_DOWNLOADS: logged once at cold start, every route answers 500', async () => {
    const log = jest.fn();
    const handler = createSignerHandlerFromEnv(testEnv({ [DOWNLOADS_ENV]: '{"keyPairId":1}' }), { log });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0][0]).toMatch(/DIRECT_UPLOAD_DOWNLOADS has invalid fields: keyPairId/);
    expect((await handler(downloadEvent({ key: 'uploads/x/y.png' }))).statusCode).toBe(500);
  });
});
