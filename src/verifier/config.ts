/**
 * The verifier's configuration, read once from its environment at cold start. Pure: takes the
 * environment as an argument (the Lambda passes `process.env`, tests and the local stack their own).
 */
import { EnvironmentError, loadVerifierEnvironment, VerifierEnvironment } from '../contract/environment';

/** Everything the verifier needs: the environment the construct set. */
export type VerifierConfig = VerifierEnvironment;

/** Reads and checks the configuration; throws once, naming every broken variable. */
export function loadVerifierConfig(env: Readonly<Record<string, string | undefined>>): VerifierConfig {
  try {
    return loadVerifierEnvironment(env);
  } catch (err) {
    throw new Error(`verifier configuration: ${err instanceof EnvironmentError ? err.message : String(err)}`);
  }
}
