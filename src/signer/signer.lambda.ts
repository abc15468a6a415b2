/**
 * Lambda entry point of the signer: a thin adapter. The configuration is read and the presigner built
 * once, at cold start; a broken configuration is logged once and every request then gets a 500
 * (the function never crashes on import).
 */
import { createSignerHandlerFromEnv } from './handler';

export const handler = createSignerHandlerFromEnv(process.env);
