import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DirectUploadBucket, DirectUploadBucketProps } from '../src';

/** What every construct test needs: a fresh app, a stack, the construct and its template. */
export interface Synthesized {
  readonly app: App;
  readonly stack: Stack;
  readonly uploads: DirectUploadBucket;
  readonly template: Template;
}

/**
 * Builds the construct in a fresh stack. `props` may be a function that adds to the stack (a key,
 * a certificate) and returns the props; `extend` runs after the construct exists (grants), before
 * the template is synthesized (a stack synthesizes once).
 */
export function synth(
  props: DirectUploadBucketProps | ((stack: Stack) => DirectUploadBucketProps) = {},
  extend?: (uploads: DirectUploadBucket, stack: Stack) => void,
): Synthesized {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const resolved = typeof props === 'function' ? props(stack) : props;
  const uploads = new DirectUploadBucket(stack, 'Uploads', resolved);
  extend?.(uploads, stack);
  return { app, stack, uploads, template: Template.fromStack(stack) };
}

/**
 * A snapshot of the template with asset hashes masked, so snapshots do not change when only the
 * bundled handler's bytes change (the handler has tests of its own).
 */
export function stableTemplate(template: Template): unknown {
  const json = JSON.stringify(template.toJSON());
  return JSON.parse(json.replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>$1'));
}
