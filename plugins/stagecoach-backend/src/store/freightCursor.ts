import { InputError } from '@backstage/errors';

/**
 * Where a page of freight ends: the last freight's (createdAt, id). Freight is listed newest
 * first (created_at descending, id ascending), so the next page starts strictly after this
 * key: freight discovered meanwhile sorts before it and never shifts a page.
 */
export interface FreightCursor {
  createdAt: string;
  id: string;
}

const VERSION = 'f1';

/** The opaque form a client passes back (`?cursor=`): base64url of a small JSON. */
export function encodeFreightCursor(c: FreightCursor): string {
  return Buffer.from(
    JSON.stringify([VERSION, c.createdAt, c.id]),
    'utf8',
  ).toString('base64url');
}

/** Reads a cursor this API gave; an InputError naming `cursor` when it is not one. */
export function decodeFreightCursor(raw: string): FreightCursor {
  const refuse = () =>
    new InputError(
      `cursor "${
        raw.length > 80 ? `${raw.slice(0, 80)}…` : raw
      }" is not one this API gave: pass a nextCursor as it was answered, or none for the first page`,
    );
  if (raw.length > 512 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== VERSION ||
    typeof parsed[1] !== 'string' ||
    typeof parsed[2] !== 'string' ||
    !parsed[1] ||
    !parsed[2]
  ) {
    throw refuse();
  }
  return { createdAt: parsed[1], id: parsed[2] };
}
