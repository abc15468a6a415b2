/**
 * Small validators the constructs compose: each returns the problems it found, every problem naming the
 * prop and the fix. Unresolved tokens are never judged at synth.
 */
import { Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import { isValidContentType } from '../contract/upload-rules';

/** Throws once, listing every problem, or returns when there is none. */
export function throwIfProblems(construct: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new Error(`Invalid ${construct} props:\n- ${problems.join('\n- ')}`);
  }
}

/** A Size's bytes, or undefined when it is absent or a token. */
export function resolvedBytes(size: Size | undefined): number | undefined {
  return size && !size.isUnresolved() ? size.toBytes({ rounding: SizeRoundingBehavior.NONE }) : undefined;
}

/** A Duration's milliseconds, or undefined when it is absent or a token. */
export function resolvedMillis(duration: Duration | undefined): number | undefined {
  return duration && !duration.isUnresolved() ? duration.toMilliseconds() : undefined;
}

/** A number prop, or undefined when it is absent or a token. */
export function resolvedNumber(value: number | undefined): number | undefined {
  return value !== undefined && !Token.isUnresolved(value) ? value : undefined;
}

/** A string prop, or undefined when it is absent or a token. */
export function resolvedString(value: string | undefined): string | undefined {
  return value !== undefined && !Token.isUnresolved(value) ? value : undefined;
}

/** `name` must be an integer from `min` to `max` (`unit` is appended to the bounds). */
export function integerProblem(name: string, value: number | undefined, min: number, max: number, unit = ''): string | undefined {
  const v = resolvedNumber(value);
  if (v === undefined || (Number.isInteger(v) && v >= min && v <= max)) return undefined;
  return `${name} must be an integer from ${min} to ${max}${unit} (got ${v}).`;
}

/** Problems of a list of content types: each a lower-case `type/subtype`; optionally non-empty and unique. */
export function contentTypeProblems(
  name: string,
  types: readonly string[] | undefined,
  options: { nonEmpty?: boolean; unique?: boolean } = {},
): string[] {
  if (!types) return [];
  const problems: string[] = [];
  if (options.nonEmpty && types.length === 0) {
    problems.push(`${name} must not be empty; omit it for the image defaults or list types such as "image/png".`);
  }
  const resolved = types.filter((t) => !Token.isUnresolved(t));
  for (const t of resolved) {
    if (!isValidContentType(t)) {
      problems.push(`${name} entry "${t}" is not a lower-case "type/subtype" without parameters or wildcards; use e.g. "image/png".`);
    }
  }
  const dupes = resolved.filter((t, i) => resolved.indexOf(t) !== i);
  if (options.unique && dupes.length > 0) {
    problems.push(`${name} lists ${[...new Set(dupes)].join(', ')} more than once; list each type once.`);
  }
  return problems;
}

/** A header value must be one non-empty line. */
export function headerValueProblem(name: string, value: string | undefined): string | undefined {
  const v = resolvedString(value);
  if (v === undefined || (v.trim() !== '' && !/[\r\n]/.test(v))) return undefined;
  return `${name} must be a non-empty single-line header value; omit it for the secure default.`;
}

/** Two props that only make sense together (or apart). */
export function requiresProblem(condition: boolean, message: string): string | undefined {
  return condition ? message : undefined;
}

/** Drops the validators that found nothing. */
export function found(...problems: ReadonlyArray<string | undefined | readonly string[]>): string[] {
  return problems.flatMap((p) => (p === undefined ? [] : typeof p === 'string' ? [p] : [...p]));
}
