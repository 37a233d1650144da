import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StagecoachEngine } from '../app';
import { git } from '@stagecoach/git-server';
import { createScratchDatabase, EngineProcess, ScratchDatabase, startEngineProcess } from '../__testUtils__/engineProcesses';
import {
  attemptsHistogram,
  createQueueFreight,
  createQueueRepo,
  freightCommit,
  freightTag,
  promotionOutcomes,
  queueAll,
  queuePipelineYaml,
  QueueRepo,
  queueProgress,
  stageBranch,
  stageHistory,
  stageNames,
  strictlyIncreasingClock,
  unfinishedCount,
} from '../__testUtils__/promotionQueue';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { PROGRESS_TEST_TIMEOUT_MS, untilProgress } from '../__testUtils__/until';
import { silentLogger } from '../util/types';

/*
 * A backend that dies mid-promotion must cost nothing but time: the promotion is started
 * over from its first step on the next engine, and its change lands exactly once. Here the
 * engine runs in a child process that is killed with SIGKILL (with the git commands it
 * started) at random points, restarted, and killed again, until every promotion has ended.
 * STAGECOACH_CRASH_SEED replays one run's kill times (how long each engine lives; what it
 * was doing then depends on the machine's speed too).
 */

const PROJECT = 'crash';
const STAGES = stageNames(20);
const FREIGHT = 10;
const CLAIM_TTL_MS = 1500;
/** Far more than the kills can use up: every promotion must end Succeeded. */
const MAX_ATTEMPTS = 100;
/** The longest an engine process lives before it is killed, counted from its ready line. */
const MAX_LIFE_MS = 3000;
/** Past this many kills the engine is left to finish: the test must end. */
const MAX_KILLS = 30;

// the wait below fails when the queue stops moving; the whole may take as long as the machine needs
jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/** mulberry32: a small seeded generator, so that a failing run's kill points can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the promotion queue across crashes (engine process killed with SIGKILL, real Git server over HTTP)', () => {
  let root: string;
  let db: ScratchDatabase;
  let repo: QueueRepo;
  let engine: StagecoachEngine;
  let current: EngineProcess | undefined;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-crash-'));
    db = await createScratchDatabase('stagecoach_crash', { sqliteDir: root });
    repo = await createQueueRepo(root, STAGES);
    // the test's own engine queues the promotions; it never runs a worker
    engine = await StagecoachEngine.create({ knex: db.knex, logger: silentLogger, workDir: path.join(root, 'queue'), clock: strictlyIncreasingClock(), egress: LOOPBACK_ALLOWED });
  });
  afterAll(async () => {
    await current?.kill9();
    await engine?.close();
    await db?.drop();
    await repo?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('runs each of 200 promotions exactly once: every one Succeeded, one commit each on the server, none lost or doubled', async () => {
    const seed = Number(process.env.STAGECOACH_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seededRandom(seed);
    // eslint-disable-next-line no-console
    console.log(`crash test on ${db.kind}: seed ${seed} (STAGECOACH_CRASH_SEED=${seed} replays these kill times)`);

    await engine.projects.applyManifests(PROJECT, queuePipelineYaml(PROJECT, repo, STAGES));
    const freight = await createQueueFreight(engine, PROJECT, repo.appURL, FREIGHT);
    const queued = await queueAll(engine, PROJECT, STAGES, freight);
    const total = STAGES.length * FREIGHT;
    expect(await unfinishedCount(db.knex, PROJECT)).toBe(total);

    const lives: number[] = [];
    let kills = 0;
    const startEngine = () =>
      startEngineProcess({
        database: db.connection,
        workDir: path.join(root, 'engine'),
        claimTtlMs: CLAIM_TTL_MS,
        pollIntervalMs: 100,
        maxAttempts: MAX_ATTEMPTS,
        skipMigrations: true,
      });
    const nextLife = () => (kills < MAX_KILLS ? Math.floor(random() * MAX_LIFE_MS) : Infinity);
    current = await startEngine();
    let born = Date.now();
    let lifeMs = nextLife();
    // every look at the queue first kills the engine whose life is over and starts the next
    const look = async () => {
      if (Date.now() - born >= lifeMs) {
        await current!.kill9();
        kills++;
        lives.push(Date.now() - born);
        current = await startEngine();
        born = Date.now();
        lifeMs = nextLife();
      }
      return queueProgress(db.knex, PROJECT);
    };
    await untilProgress(look, q => q.unfinished === 0, 'every promotion ending while engines are killed', { everyMs: 50 });
    const lastExit = await current.stop();

    const outcomes = await promotionOutcomes(db.knex, PROJECT);
    const histogram = attemptsHistogram(outcomes);
    // a promotion killed after its push and before it was recorded as done found its change
    // on the server when it ran again: its last git-commit had nothing to commit
    const [{ n: redone }] = await db.knex('stagecoach_promotion_steps')
      .where({ uses: 'git-commit' })
      .andWhere('message', 'like', 'nothing to commit%')
      .count({ n: '*' });
    // eslint-disable-next-line no-console
    console.log(
      `crash test: ${kills} kills (lives of ${lives.join(', ')} ms); attempts per promotion ${JSON.stringify(histogram)}, ` +
        `${outcomes.reduce((n, o) => n + o.attempts, 0)} in all for ${total} promotions; ` +
        `${redone} ran again after their push had landed; seed ${seed}`,
    );
    expect(kills).toBeGreaterThan(0);
    // the last engine, told to stop, shut down cleanly
    expect(lastExit).toEqual({ code: 0, signal: null });

    // every promotion ended, and ended well
    expect(outcomes).toHaveLength(total);
    expect(outcomes.filter(o => o.phase !== 'Succeeded')).toEqual([]);

    // the server has exactly one commit per promotion, each stage's in queue order, each
    // writing its own freight's commit, and the stage branch ends at the last freight
    for (const stage of STAGES) {
      const history = await stageHistory(repo, stage);
      expect({ stage, promotions: history.map(c => c.promotionId) }).toEqual({ stage, promotions: queued.get(stage) });
      expect(history.map(c => c.tag)).toEqual(freight.map((_, i) => freightTag(i)));
      expect(history.map(c => c.writtenTags)).toEqual(freight.map((_, i) => [freightCommit(i)]));
    }
    const tips = await Promise.all(STAGES.map(stage => git(repo.bare, 'show', `${stageBranch(stage)}:values.yaml`)));
    expect(tips.filter(values => !values.includes(freightCommit(FREIGHT - 1)))).toEqual([]);

    // and the engine agrees: each stage holds the last freight
    const stages = await engine.stages.list(PROJECT);
    expect(stages.map(s => s.currentFreight?.id)).toEqual(STAGES.map(() => freight[FREIGHT - 1].id));
  });
});
