import { ResponseError } from '@backstage/errors';

/**
 * The message to show a person for an error: for a failed request, what the server said
 * (a ResponseError's own message is only "Request failed with 409 Conflict").
 */
export function errorMessage(error: unknown): string {
  if (error instanceof ResponseError) {
    return error.body?.error?.message || error.cause?.message || error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The HTTP status of a failed request, if the error is one. */
export function errorStatus(error: unknown): number | undefined {
  return error instanceof ResponseError ? error.statusCode : undefined;
}
