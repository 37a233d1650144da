/**
 * Reads until `done` says so, `tries` times at most, `everyMs` apart; the last value read
 * when it never happens is in the error, so a failure shows what the test saw instead.
 */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { tries = 600, everyMs = 50 }: { tries?: number; everyMs?: number } = {},
): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise(r => setTimeout(r, everyMs));
    value = await read();
  }
  if (!done(value)) throw new Error(`${what} did not happen: ${JSON.stringify(value, null, 2)}`);
  return value;
}
