import { z } from 'zod';

/** A non-empty string field of a request to assemble freight; the message says what it must be. */
export const requestText = (what: string) =>
  z.string({ invalid_type_error: `must be ${what}` }).min(1, `must be ${what}`);
