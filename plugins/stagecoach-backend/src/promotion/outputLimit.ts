import { byteSize } from '../util/bytes';

/**
 * Step outputs are stored with the promotion and shown to everyone who may read it, so they
 * are kept small: at most `stagecoach.promotions.maxOutputBytes` (as JSON) per step.
 */

export const MAX_OUTPUT_BYTES_KEY = 'stagecoach.promotions.maxOutputBytes';
export const DEFAULT_MAX_OUTPUT_BYTES = 2 ** 20;

/** Why a step's outputs are too large to keep, or undefined when they fit. */
export function outputsTooLarge(
  alias: string,
  uses: string,
  outputs: Record<string, unknown> | undefined,
  limit: number,
): string | undefined {
  if (!outputs) return undefined;
  const size = Buffer.byteLength(JSON.stringify(outputs) ?? '');
  if (size <= limit) return undefined;
  return (
    `the outputs of step "${alias}" (${uses}) are ${byteSize(size)} as JSON, more than the ${byteSize(limit)} ` +
    `a step may keep (${MAX_OUTPUT_BYTES_KEY}): take only what later steps need into outputs`
  );
}
