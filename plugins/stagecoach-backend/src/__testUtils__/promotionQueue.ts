import { createHash } from 'node:crypto';
import path from 'node:path';
import { Knex } from 'knex';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import type { StagecoachEngine } from '../app';
import type { StoredFreight } from '../store/FreightStore';
import type { Clock } from '../util/types';

/**
 * A pipeline whose every promotion makes one commit of its own, for tests and benchmarks of
 * the promotion queue: stage `<name>` clones branch `env/<name>` of one GitOps repository,
 * writes the freight's commit into `values.yaml` (yaml-update), commits with a message
 * naming the promotion, and pushes. Each stage has a branch of its own, so pushes of
 * different stages never contend.
 */

export const QUEUE_WAREHOUSE = 'app';

export const stageNames = (count: number, prefix = 's') =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

export const stageBranch = (stage: string) => `env/${stage}`;

export interface QueueRepo {
  server: Pick<GitHttpServer, 'url' | 'close'>;
  /** The bare repository on disk (for reading history). */
  bare: string;
  gitopsURL: string;
  /** Named by the freight's commits; never cloned. */
  appURL: string;
  close(): Promise<void>;
}

/** Serves the bare repositories under a folder over HTTP: the URL `/<name>.git` is a repository. */
export type GitServe = (reposRoot: string) => Promise<Pick<GitHttpServer, 'url' | 'close'>>;

/**
 * The GitOps repository: `values.yaml` on main, and a branch `env/<stage>` from it per stage,
 * served by @stagecoach/git-server in this process unless `serve` says otherwise.
 */
export async function createQueueRepo(
  root: string,
  stages: string[],
  serve: GitServe = reposRoot => startGitHttpServer({ root: reposRoot }),
): Promise<QueueRepo> {
  const repos = path.join(root, 'repos');
  const bare = await createBareRepo(repos, 'gitops', [
    { files: { 'values.yaml': '# managed by Stagecoach\nimage:\n  tag: none\n' }, message: 'initial values' },
  ]);
  for (const s of stages) await git(bare, 'branch', stageBranch(s), 'main');
  const server = await serve(repos);
  return {
    server,
    bare,
    gitopsURL: `${server.url}/gitops.git`,
    appURL: `${server.url}/app.git`,
    close: () => server.close(),
  };
}

/** The commit message each promotion writes: it names the stage, the freight's tag and the promotion. */
const COMMIT_SUBJECT = /^(\S+): (\S+) by promotion (\S+)$/;

/** A warehouse and one stage per name, every stage taking freight directly from the warehouse. */
export function queuePipelineYaml(project: string, repo: Pick<QueueRepo, 'gitopsURL' | 'appURL'>, stages: string[]): string {
  const warehouse = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: ${QUEUE_WAREHOUSE}, namespace: ${project}}
spec:
  interval: 24h
  freightCreationPolicy: Manual
  subscriptions:
    - git: {repoURL: ${repo.appURL}, commitSelectionStrategy: SemVer}
`;
  const stage = (name: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: ${name}, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: ${QUEUE_WAREHOUSE}}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: git-clone
          config:
            repoURL: ${repo.gitopsURL}
            checkout:
              - branch: ${stageBranch(name)}
                path: ./out
        - uses: yaml-update
          config:
            path: ./out/values.yaml
            updates:
              - key: image.tag
                value: \${{ commitFrom("${repo.appURL}").id }}
        - uses: git-commit
          config:
            path: ./out
            message: "\${{ ctx.stage }}: \${{ commitFrom(\\"${repo.appURL}\\").tag }} by promotion \${{ ctx.promotion }}"
        - uses: git-push
          config:
            path: ./out
`;
  return [warehouse, ...stages.map(stage)].join('---\n');
}

/** The commit a freight names: fixed per index, so runs are comparable. */
export const freightCommit = (i: number) => createHash('sha1').update(`queue freight ${i}`).digest('hex');
export const freightTag = (i: number) => `v1.0.${i}`;

/** `count` freight of the warehouse, made directly in the store (no discovery), in order. */
export async function createQueueFreight(
  engine: StagecoachEngine,
  project: string,
  appURL: string,
  count: number,
): Promise<StoredFreight[]> {
  const out: StoredFreight[] = [];
  for (let i = 0; i < count; i++) {
    const artifacts = { commits: [{ repoURL: appURL, id: freightCommit(i), tag: freightTag(i) }], images: [], charts: [] };
    const { freight } = await engine.stores.freight.ensure(project, QUEUE_WAREHOUSE, artifacts, new Date().toISOString());
    out.push(freight);
  }
  return out;
}

/**
 * A clock that never gives the same millisecond twice: promotions queued by one engine in
 * quick succession keep their order (the queue orders by creation time).
 */
export function strictlyIncreasingClock(): Clock {
  let last = 0;
  return {
    now() {
      last = Math.max(Date.now(), last + 1);
      return new Date(last);
    },
  };
}

/**
 * Queues every freight into every stage, freight by freight (freight 0 into all stages,
 * then freight 1, ...). Returns the promotion IDs of each stage in queue order.
 */
export async function queueAll(
  engine: StagecoachEngine,
  project: string,
  stages: string[],
  freight: StoredFreight[],
): Promise<Map<string, string[]>> {
  const ids = new Map(stages.map(s => [s, [] as string[]]));
  for (const f of freight) {
    for (const s of stages) ids.get(s)!.push((await engine.promotions.promote(project, s, f.id, 'queue-test')).id);
  }
  return ids;
}

export interface StageCommit {
  sha: string;
  stage: string;
  tag: string;
  promotionId: string;
  /** The `image.tag` values the commit wrote (one, for a promotion's commit). */
  writtenTags: string[];
}

/** The commits a stage's branch gained since main, oldest first, with what each wrote. */
export async function stageHistory(repo: Pick<QueueRepo, 'bare'>, stage: string): Promise<StageCommit[]> {
  const out = await git(repo.bare, 'log', '--reverse', '--format=%x00%H %s', '-U0', `main..${stageBranch(stage)}`, '--');
  return out
    .split('\0')
    .filter(chunk => chunk.trim())
    .map(chunk => {
      const [head, ...patch] = chunk.split('\n');
      const sp = head.indexOf(' ');
      const sha = head.slice(0, sp);
      const m = COMMIT_SUBJECT.exec(head.slice(sp + 1));
      if (!m) throw new Error(`commit ${sha} on ${stageBranch(stage)} is not a promotion's: "${head.slice(sp + 1)}"`);
      const writtenTags = patch
        .map(l => /^\+\s+tag:\s+"?([^"\s]+)"?/.exec(l)?.[1])
        .filter((t): t is string => !!t);
      return { sha, stage: m[1], tag: m[2], promotionId: m[3], writtenTags };
    });
}

/** How many promotions are not in a final phase yet. */
export async function unfinishedCount(knex: Knex, project: string): Promise<number> {
  const [{ n }] = await knex('stagecoach_promotions')
    .where({ project })
    .whereIn('phase', ['Pending', 'Running'])
    .count({ n: '*' });
  return Number(n);
}

/**
 * What moves while the queue drains, over the project's promotions: how many are left, how
 * many attempts were started (a claim, or a start over after a crash), and the sum of their
 * current steps. A wait on the queue fails when none of these changes for a long while.
 */
export async function queueProgress(
  knex: Knex,
  project: string,
): Promise<{ unfinished: number; attempts: number; steps: number }> {
  const [row] = await knex('stagecoach_promotions')
    .where({ project })
    .select(
      knex.raw(`sum(case when phase in ('Pending', 'Running') then 1 else 0 end) as unfinished`),
      knex.raw('sum(attempts) as attempts'),
      knex.raw('sum(current_step) as steps'),
    );
  return { unfinished: Number(row.unfinished ?? 0), attempts: Number(row.attempts ?? 0), steps: Number(row.steps ?? 0) };
}

export interface PromotionOutcome {
  id: string;
  stage: string;
  phase: string;
  attempts: number;
  message: string | null;
}

export async function promotionOutcomes(knex: Knex, project: string): Promise<PromotionOutcome[]> {
  return knex('stagecoach_promotions')
    .where({ project })
    .select('id', 'stage', 'phase', 'attempts', 'message')
    .orderBy([{ column: 'created_at' }, { column: 'id' }]);
}

/** How many promotions took 1, 2, ... attempts: `{ "1": 180, "2": 19, "3": 1 }`. */
export function attemptsHistogram(outcomes: PromotionOutcome[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const o of outcomes) h[o.attempts] = (h[o.attempts] ?? 0) + 1;
  return h;
}
