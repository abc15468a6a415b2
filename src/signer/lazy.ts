/**
 * A value computed on first use, then kept: how the signer requires an AWS SDK client package (external
 * to the bundle, shipped by the Lambda runtime) only when a route needs it.
 */
export function lazy<T>(load: () => T): () => T {
  let loaded: { readonly value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}
