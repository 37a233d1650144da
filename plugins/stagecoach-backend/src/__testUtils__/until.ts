import type {
  Promotion,
  Verification,
} from '@stagecoach/plugin-stagecoach-common';

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
  if (!done(value))
    throw new Error(
      `${what} did not happen: ${JSON.stringify(value, null, 2)}`,
    );
  return value;
}

/** How long nothing may move before a progress wait gives up: far beyond a slow, busy machine's pauses. */
const STALL_MS = 120_000;

/**
 * Jest's timeout for a test whose long waits are progress waits: it only bounds the whole,
 * so that the stall detector, not the machine's speed, is what fails the test.
 */
export const PROGRESS_TEST_TIMEOUT_MS = 30 * 60_000;

/**
 * Reads until `done` says so, for as long as the work keeps moving: it fails only when
 * `progress` of what it reads (by default the value itself) has stayed the same for
 * `stallMs`, with what it saw last. For long flows (hundreds of promotions, real services)
 * whose total time depends on the machine: a slow machine takes longer, a stuck one fails.
 */
export async function untilProgress<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  {
    progress = value => value,
    stallMs = STALL_MS,
    everyMs = 200,
  }: {
    progress?: (value: T) => unknown;
    stallMs?: number;
    everyMs?: number;
  } = {},
): Promise<T> {
  const started = Date.now();
  let value = await read();
  let seen = JSON.stringify(progress(value));
  let movedAt = Date.now();
  while (!done(value)) {
    if (Date.now() - movedAt >= stallMs) {
      const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
      const last = JSON.stringify(value, null, 2);
      throw new Error(
        `${what} stalled: nothing moved for ${seconds(
          Date.now() - movedAt,
        )} (${seconds(Date.now() - started)} in all); ` +
          `${
            seen === JSON.stringify(value) ? '' : `progress stayed at ${seen}; `
          }last seen: ${last}`,
      );
    }
    await new Promise(r => setTimeout(r, everyMs));
    value = await read();
    const now = JSON.stringify(progress(value));
    if (now !== seen) {
      seen = now;
      movedAt = Date.now();
    }
  }
  return value;
}

/** What moves while a promotion runs: its phase, and each step's status and errors so far. */
export const promotionProgress = (
  p: Pick<Promotion, 'phase' | 'steps'> | undefined,
) => p && [p.phase, p.steps.map(s => [s.status, s.errorCount ?? 0])];

/**
 * Reads a promotion until it has ended (neither Pending nor Running), for as long as it keeps
 * moving: what every test that runs a promotion through the engine waits for.
 */
export function untilPromotionEnds(
  read: () => Promise<Promotion>,
  what = 'the promotion',
): Promise<Promotion> {
  return untilProgress(
    read,
    p => !['Pending', 'Running'].includes(p.phase),
    what,
    { progress: promotionProgress, everyMs: 20 },
  );
}

/** What moves while a verification runs: which one it is, its phase, and each metric's phase and measurements. */
export const verificationProgress = (
  v: Pick<Verification, 'id' | 'phase' | 'metrics'> | undefined,
) => v && [v.id, v.phase, v.metrics.map(m => [m.phase, m.count, m.error])];
