import { redactSecrets } from '../../util/secrets';

/** What went wrong, for callers that react differently (e.g. a missing tag is not a failure). */
export type RegistryErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'rate-limited'
  | 'server'
  | 'unexpected-status'
  | 'timeout'
  | 'network'
  | 'tls'
  | 'malformed'
  | 'too-large'
  | 'integrity'
  | 'insecure-realm'
  | 'egress-refused'
  | 'aborted'
  | 'local';

/**
 * An error a user can act on: it names the registry and repository and says what to check.
 * It never carries credentials, tokens or response bodies.
 */
export class RegistryError extends Error {
  readonly name = 'RegistryError';

  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(redactSecrets(message));
  }
}

export function isRegistryError(
  e: unknown,
  kind?: RegistryErrorKind,
): e is RegistryError {
  return e instanceof RegistryError && (kind === undefined || e.kind === kind);
}

/** `30s`, `1.5s`, `200ms`. */
export function formatTimeout(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${Number((ms / 1000).toFixed(1))}s`;
}
