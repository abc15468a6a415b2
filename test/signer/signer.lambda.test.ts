import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DEFAULT_ARN, iamAuthorizer, makeEvent, testEnv, uploadBody } from './helpers';
import { BUCKET_ENV } from '../../src/contract/environment';
import { ErrorCodes } from '../../src/contract/signer-protocol';

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Imports the Lambda entry point afresh with `env` as its environment (as a cold start would). */
function coldStart(env: Record<string, string | undefined>): Handler {
  const saved = process.env;
  process.env = { ...env };
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module instance per test is the point
      handler = (require('../../src/signer/signer.lambda') as { handler: Handler }).handler;
    });
    if (!handler) throw new Error('signer.lambda exported no handler');
    return handler;
  } finally {
    process.env = saved;
  }
}

describe('signer.lambda', () => {
  const event = makeEvent({ body: uploadBody(), authorizer: iamAuthorizer(DEFAULT_ARN) });

  test('exports a handler built from the environment at import', async () => {
    const result = await coldStart(testEnv())(event);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '{}').url).toMatch(/^https:\/\/uploads-bucket-1234\.s3\.eu-west-1\.amazonaws\.com\//);
  });

  test('with a broken environment: imports fine, logs once, answers 500', async () => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const handler = coldStart(testEnv({ [BUCKET_ENV]: undefined }));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0][0]).toContain('DIRECT_UPLOAD_BUCKET is not set');

      const result = await handler(event);
      expect(result.statusCode).toBe(500);
      expect(JSON.parse(result.body ?? '{}').error.code).toBe(ErrorCodes.INTERNAL_ERROR);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
