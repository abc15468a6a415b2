/** The README's "Local development" example of the local stack in a test, as written. */
import { startLocalStack } from '../../src/local/local-stack';

test('the README\'s local stack example starts and stops the stack', async () => {
  // [readme:local-stack]
  const stack = await startLocalStack({ allowedOrigins: ['http://localhost:5173'] });
  // POST `${stack.signerUrl}/uploads` with header x-local-user, PUT to the returned url, read stack.queueUrl ...
  await stack.stop();
  // [/readme]
  expect(stack.signerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});
