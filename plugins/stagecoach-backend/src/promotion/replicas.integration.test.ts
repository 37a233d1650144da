import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StagecoachEngine } from '../app';
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
  stageHistory,
  stageNames,
  strictlyIncreasingClock,
  unfinishedCount,
} from '../__testUtils__/promotionQueue';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { PROGRESS_TEST_TIMEOUT_MS, untilProgress } from '../__testUtils__/until';
import { silentLogger } from '../util/types';

/*
 * Two backend replicas share one database: two engine processes, each with its own worker,
 * drain one queue. Every promotion must run once, on one of them, and each stage's
 * promotions in the order they were queued.
 */

const PROJECT = 'replicas';
const STAGES = stageNames(50);
const FREIGHT = 10;

// the wait below fails when the queue stops moving; the whole may take as long as the machine needs
jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/** `promotion <id> of <project>/<stage>: <phase>`, as the runner logs a promotion it ended. */
const FINISHED = /^info promotion (\S+) of [^/\s]+\/\S+: (\w+)/;

/*
 * Replicas share work only on PostgreSQL (SQLite is the single-process embedded store), so
 * this runs where one is configured: `./stagecoachw test` sets the connection string when a
 * server answers, and CI (STAGECOACH_REQUIRE_POSTGRES=1) fails when none does.
 */
const postgresConfigured =
  process.env.STAGECOACH_REQUIRE_POSTGRES === '1' ||
  !!process.env.STAGECOACH_TEST_POSTGRES_URL ||
  Object.keys(process.env).some(k => /^BACKSTAGE_TEST_DATABASE_POSTGRES\d+_CONNECTION_STRING$/.test(k));
const describeOnPostgres = postgresConfigured ? describe : describe.skip;

describeOnPostgres('two backend replicas on one PostgreSQL database (two engine processes, real Git server over HTTP)', () => {
  let root: string;
  let db: ScratchDatabase;
  let repo: QueueRepo;
  let engine: StagecoachEngine;
  const replicas: EngineProcess[] = [];

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-replicas-'));
    db = await createScratchDatabase('stagecoach_replicas', { sqliteDir: root, postgresOnly: true });
    repo = await createQueueRepo(root, STAGES);
    // the test's own engine queues the promotions; it never runs a worker
    engine = await StagecoachEngine.create({ knex: db.knex, logger: silentLogger, workDir: path.join(root, 'queue'), clock: strictlyIncreasingClock(), egress: LOOPBACK_ALLOWED });
  });
  afterAll(async () => {
    await Promise.all(replicas.map(r => r.kill9()));
    await engine?.close();
    await db?.drop();
    await repo?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('runs each of 500 promotions across 50 stages exactly once, in queue order per stage, with both replicas working', async () => {
    await engine.projects.applyManifests(PROJECT, queuePipelineYaml(PROJECT, repo, STAGES));
    const freight = await createQueueFreight(engine, PROJECT, repo.appURL, FREIGHT);
    const queued = await queueAll(engine, PROJECT, STAGES, freight);
    const total = STAGES.length * FREIGHT;
    expect(await unfinishedCount(db.knex, PROJECT)).toBe(total);

    const started = Date.now();
    replicas.push(
      ...(await Promise.all(
        ['a', 'b'].map(name =>
          startEngineProcess({
            database: db.connection,
            workDir: path.join(root, `replica-${name}`),
            concurrency: 4,
            pollIntervalMs: 200,
            skipMigrations: true,
          }),
        ),
      )),
    );
    await untilProgress(() => queueProgress(db.knex, PROJECT), q => q.unfinished === 0, 'both replicas draining the queue');
    const seconds = (Date.now() - started) / 1000;
    const exits = await Promise.all(replicas.map(r => r.stop()));
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);

    // who ended what, from each replica's log
    const endedBy = replicas.map(r =>
      r.lines.map(l => FINISHED.exec(l)).filter((m): m is RegExpExecArray => !!m).map(m => ({ id: m[1], phase: m[2] })),
    );
    const outcomes = await promotionOutcomes(db.knex, PROJECT);
    // eslint-disable-next-line no-console
    console.log(
      `replicas test: ${total} promotions in ${seconds} s; replica a ended ${endedBy[0].length}, ` +
        `replica b ${endedBy[1].length}; attempts per promotion ${JSON.stringify(attemptsHistogram(outcomes))}`,
    );

    expect(outcomes).toHaveLength(total);
    expect(outcomes.filter(o => o.phase !== 'Succeeded' || o.attempts !== 1)).toEqual([]);
    // each promotion was ended by exactly one replica, and both did work
    const all = [...endedBy[0], ...endedBy[1]];
    expect(all.every(e => e.phase === 'Succeeded')).toBe(true);
    expect(all.map(e => e.id).sort()).toEqual(outcomes.map(o => o.id).sort());
    expect(endedBy[0].length).toBeGreaterThan(0);
    expect(endedBy[1].length).toBeGreaterThan(0);
    // no claim was lost or taken over, and nothing was started over
    const troubles = replicas.flatMap(r => r.lines.filter(l => /^(warn|error) /.test(l)));
    expect(troubles).toEqual([]);

    // exactly one commit per promotion on the server, each stage's in queue order
    let commits = 0;
    for (const stage of STAGES) {
      const history = await stageHistory(repo, stage);
      commits += history.length;
      expect({ stage, promotions: history.map(c => c.promotionId) }).toEqual({ stage, promotions: queued.get(stage) });
      expect(history.map(c => c.tag)).toEqual(freight.map((_, i) => freightTag(i)));
      expect(history.map(c => c.writtenTags)).toEqual(freight.map((_, i) => [freightCommit(i)]));
    }
    expect(commits).toBe(total);
  });
});
