/**
 * The signer's configuration, read once from its environment at cold start: the variables the construct
 * set (loaded by the contract's `loadSignerEnvironment`) and the ones the Lambda runtime sets.
 *
 * Pure: takes the environment as an argument (the Lambda passes `process.env`, tests and the local
 * stack pass their own record), imports no AWS SDK.
 */
import { EnvironmentError, loadSignerEnvironment, SignerEnvironment } from '../contract/environment';

/** Region the function runs in (set by the Lambda runtime): the bucket's region. */
export const REGION_ENV = 'AWS_REGION';
/** Credential variables set by the Lambda runtime for the function's role. */
export const ACCESS_KEY_ID_ENV = 'AWS_ACCESS_KEY_ID';
export const SECRET_ACCESS_KEY_ENV = 'AWS_SECRET_ACCESS_KEY';
export const SESSION_TOKEN_ENV = 'AWS_SESSION_TOKEN';

/** Static or temporary AWS credentials used to sign. */
export interface SignerCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Everything the signer needs; built by {@link loadSignerConfig}. */
export interface SignerConfig extends SignerEnvironment {
  /** The bucket's region (the signing region, also with Transfer Acceleration). */
  readonly region: string;
  /** Partition URL suffix, e.g. `amazonaws.com`. */
  readonly urlSuffix: string;
  /** Returns the credentials to sign with; called per request so it always sees current values. */
  readonly credentials: () => SignerCredentials;
}

const REGION_RE = /^[a-z0-9]+(-[a-z0-9]+)+$/;

/**
 * Reads and checks the signer's configuration. Collects every problem and throws one Error naming
 * each variable and the fix: a broken environment is a deployment fault, reported once at cold start.
 */
export function loadSignerConfig(env: Readonly<Record<string, string | undefined>>): SignerConfig {
  const problems: string[] = [];
  let contract: SignerEnvironment | undefined;
  try {
    contract = loadSignerEnvironment(env);
  } catch (err) {
    problems.push(...(err instanceof EnvironmentError ? err.problems : [String(err)]));
  }
  const region = env[REGION_ENV] ?? '';
  if (!region) {
    problems.push(`${REGION_ENV} is not set; set it to the bucket's region (e.g. "eu-west-1")`);
  } else if (!REGION_RE.test(region)) {
    problems.push(`${REGION_ENV} is not a region name (got "${region}")`);
  }
  if (!env[ACCESS_KEY_ID_ENV] || !env[SECRET_ACCESS_KEY_ENV]) {
    problems.push(`${ACCESS_KEY_ID_ENV} and ${SECRET_ACCESS_KEY_ENV} must be set (the Lambda runtime sets them for the function's role)`);
  }
  if (problems.length > 0 || !contract) {
    throw new Error(`Invalid signer configuration: ${problems.join('; ')}`);
  }
  return { ...contract, urlSuffix: contract.urlSuffix!, region, credentials: () => readCredentials(env) };
}

function readCredentials(env: Readonly<Record<string, string | undefined>>): SignerCredentials {
  const accessKeyId = env[ACCESS_KEY_ID_ENV];
  const secretAccessKey = env[SECRET_ACCESS_KEY_ENV];
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`${ACCESS_KEY_ID_ENV} and ${SECRET_ACCESS_KEY_ENV} are not set; the signer has no credentials to sign with`);
  }
  const sessionToken = env[SESSION_TOKEN_ENV];
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/** The variables the Lambda runtime sets for the function (the local stack and tests set them themselves). */
export function lambdaRuntimeEnvironment(region: string, credentials: SignerCredentials): Record<string, string> {
  return {
    [REGION_ENV]: region,
    [ACCESS_KEY_ID_ENV]: credentials.accessKeyId,
    [SECRET_ACCESS_KEY_ENV]: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { [SESSION_TOKEN_ENV]: credentials.sessionToken } : {}),
  };
}
