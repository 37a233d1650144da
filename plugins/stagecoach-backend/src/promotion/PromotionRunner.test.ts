import { ConflictError } from '@backstage/errors';
import type { Promotion } from '@stagecoach/plugin-stagecoach-common';
import { Knex } from 'knex';
import { stringify } from 'yaml';
import { z } from 'zod';
import { StagecoachEngine } from '../app';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { manifestExtensions } from '../app/manifestExtensions';
import { parseManifests, StageDefinition } from '../manifests/parseManifests';
import { inflateTasks } from '../manifests/promotionTasks';
import { stageSpecSchema } from '../manifests/schemas';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { Clock, silentLogger } from '../util/types';
import { builtinSteps } from './steps';
import type { StepDefinition } from './steps/types';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

jest.setTimeout(120_000);

/*
 * The promotion runner, worker and queue as a user sees them through the engine's API:
 * promotions run by the engine's own worker against a real Git server, with a clock the
 * tests move forward so that waiting promotions wake without sleeping.
 */

// ---- test-only steps, added to the built-in ones ----

/** Every run of a test step: `<promotion id> <alias>`. */
const calls: string[] = [];
const counters = new Map<string, number>();
const count = (key: string) => {
  const n = (counters.get(key) ?? 0) + 1;
  counters.set(key, n);
  return n;
};
const gates = new Map<string, { opened: Promise<void>; open(): void }>();
const gate = (key: string) => {
  let g = gates.get(key);
  if (!g) {
    let open!: () => void;
    const opened = new Promise<void>(resolve => {
      open = resolve;
    });
    g = { opened, open };
    gates.set(key, g);
  }
  return g;
};

/** Succeeds, and notes that it ran. */
const testMark: StepDefinition<Record<string, never>> = {
  name: 'test-mark',
  description: 'Succeed.',
  schema: z.object({}).strict(),
  async run(ctx) {
    calls.push(`${ctx.promotionId} ${ctx.alias}`);
    return { status: 'Succeeded', outputs: { ran: true } };
  },
};

/** Answers Running `times` times, counting in the state it is handed back, then succeeds. */
const testPoll: StepDefinition<{ times: number; retryAfterMs: number }> = {
  name: 'test-poll',
  description: 'Keep running for a while.',
  schema: z.object({ times: z.number().int(), retryAfterMs: z.number().int().default(60_000) }).strict(),
  async run(ctx, config) {
    calls.push(`${ctx.promotionId} ${ctx.alias}`);
    const checks = Number(ctx.state?.checks ?? 0) + 1;
    if (checks <= config.times) {
      return { status: 'Running', message: `still waiting (${checks})`, retryAfterMs: config.retryAfterMs, state: { checks } };
    }
    return { status: 'Succeeded', message: `done after ${checks} checks`, outputs: { checks, handedBack: ctx.state ?? null } };
  },
};

/** Throws (an error worth retrying) the first `failures` times it runs in a promotion. */
const testFlaky: StepDefinition<{ failures: number }> = {
  name: 'test-flaky',
  description: 'Fail a few times.',
  schema: z.object({ failures: z.number().int() }).strict(),
  async run(ctx, config) {
    const n = count(`${ctx.promotionId} ${ctx.alias}`);
    if (n <= config.failures) throw new Error(`connection reset (${n})`);
    return { status: 'Succeeded', outputs: { tries: n } };
  },
};

/** The first `times` runs with this key block until ctx.signal aborts; later ones succeed. */
const testBlock: StepDefinition<{ key: string; times: number }> = {
  name: 'test-block',
  description: 'Block until aborted.',
  schema: z.object({ key: z.string(), times: z.number().int().default(1) }).strict(),
  run(ctx, config) {
    calls.push(`${ctx.promotionId} ${ctx.alias}`);
    if (count(config.key) > config.times) return Promise.resolve({ status: 'Succeeded', message: 'let through' });
    return new Promise((_, reject) => {
      const stop = () => reject(new Error(`interrupted: ${String(ctx.signal.reason)}`));
      if (ctx.signal.aborted) stop();
      else ctx.signal.addEventListener('abort', stop, { once: true });
    });
  },
};

/** Waits for the test to open its gate (whatever ctx.signal says), then answers Running. */
const testHold: StepDefinition<{ key: string }> = {
  name: 'test-hold',
  description: 'Check slowly.',
  schema: z.object({ key: z.string() }).strict(),
  async run(_ctx, config) {
    await gate(config.key).opened;
    return { status: 'Running', message: 'checked once more', retryAfterMs: 60_000 };
  },
};

const steps: ReadonlyMap<string, StepDefinition> = new Map([
  ...builtinSteps,
  ...[testMark, testPoll, testFlaky, testBlock, testHold].map(s => [s.name, s] as [string, StepDefinition]),
]);

// ---- manifests ----

type Step = Record<string, unknown>;
interface StageDoc {
  name: string;
  vars?: { name: string; value?: unknown }[];
  templateVars?: { name: string; value?: unknown }[];
  steps: Step[];
}

const header = (kind: string, name: string, project: string) => ({
  apiVersion: 'kargo.akuity.io/v1alpha1',
  kind,
  metadata: { name, namespace: project },
});

const stageSpec = (s: StageDoc) => ({
  ...(s.vars ? { vars: s.vars } : {}),
  requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources: { direct: true } }],
  promotionTemplate: { spec: { ...(s.templateVars ? { vars: s.templateVars } : {}), steps: s.steps } },
});

/** A multi-document YAML set: a warehouse on the fixture's app repository, stages, PromotionTasks. */
function manifestsYaml(
  git: GitFixture,
  project: string,
  stages: StageDoc[],
  tasks: { name: string; spec: unknown }[] = [],
): string {
  const warehouse = {
    ...header('Warehouse', 'app', project),
    spec: { interval: '5m', subscriptions: [{ git: { repoURL: git.appURL, commitSelectionStrategy: 'SemVer' } }] },
  };
  return [
    warehouse,
    ...stages.map(s => ({ ...header('Stage', s.name, project), spec: stageSpec(s) })),
    ...tasks.map(t => ({ ...header('PromotionTask', t.name, project), spec: t.spec })),
  ]
    .map(d => stringify(d))
    .join('---\n');
}

/**
 * Stores stages that use the test-only steps. engine.applyManifests checks every `uses`
 * against the built-in steps, so these go to the pipeline store directly, parsed by the
 * same schema and inflation as applyManifests does.
 */
async function storeWithTestSteps(engine: StagecoachEngine, git: GitFixture, clock: Clock, project: string, stages: StageDoc[]) {
  const { warehouses } = parseManifests(project, manifestsYaml(git, project, []), manifestExtensions());
  const definitions: StageDefinition[] = stages.map(s => {
    const { promotionTemplate, ...rest } = stageSpecSchema.parse(stageSpec(s));
    const inflated = inflateTasks(promotionTemplate!.spec.steps, new Map());
    expect(inflated.problems).toEqual([]);
    return { name: s.name, spec: { ...rest, promotionTemplate: { spec: { ...promotionTemplate!.spec, steps: inflated.steps } } } };
  });
  await engine.stores.pipelines.applyManifests({ project, warehouses, stages: definitions }, clock.now().toISOString());
}

const FINAL = (p: Promotion) => !['Pending', 'Running'].includes(p.phase);
const summary = (p: Promotion) => p.steps.map(s => [s.alias, s.status]);

describe('promotion runner, worker and queue, through the engine', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    let nowMs = Date.parse('2026-12-01T09:00:00.000Z');
    const clock: Clock = { now: () => new Date(nowMs) };
    /** Moves the clock; only while no promotion is running (a claim would look abandoned). */
    const advance = (ms: number) => {
      nowMs += ms;
    };
    const at = (ms = 0) => new Date(nowMs + ms).toISOString();
    const ACTOR = 'user:default/ops';

    const newEngine = (db: Knex, name: string, options: { clock?: Clock; maxAttempts?: number } = {}) =>
      StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex: db,
        logger: silentLogger,
        clock: options.clock ?? clock,
        workDir: `${git.root}/work-${name}`,
        steps,
        // one promotion at a time: a waiting promotion must leave the worker free for others
        worker: { concurrency: 1, pollIntervalMs: 20, claimTtlMs: 400, maxAttempts: options.maxAttempts },
      });

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await newEngine(knex, 'main');
      engine.start();
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    async function until(on: StagecoachEngine, project: string, id: string, ok: (p: Promotion) => boolean, what: string) {
      let last: Promotion | undefined;
      for (let i = 0; i < 1500; i++) {
        last = await on.promotions.get(project, id);
        if (ok(last)) return last;
        await new Promise(r => setTimeout(r, 20));
      }
      throw new Error(`promotion ${id} never got to ${what}: ${JSON.stringify(last)}`);
    }
    const finished = (project: string, id: string, on = engine) => until(on, project, id, FINAL, 'a final phase');
    /** Waits until the promotion was put aside until `wakeAt` (its worker has let go of it). */
    const waitingUntil = (project: string, id: string, wakeAt: string) =>
      until(engine, project, id, p => p.phase === 'Running' && p.waitingUntil === wakeAt, `waiting until ${wakeAt}`);
    const stepRunning = (project: string, id: string, alias: string, on = engine) =>
      until(on, project, id, p => p.steps.find(s => s.alias === alias)?.status === 'Running', `step ${alias} running`);

    /** Applies a set of built-in-step stages and discovers the app's freight; returns its alias. */
    async function pipeline(project: string, stages: StageDoc[], tasks?: { name: string; spec: unknown }[]) {
      await engine.projects.applyManifests(project, manifestsYaml(git, project, stages, tasks));
      return discover(project);
    }
    async function discover(project: string, on = engine) {
      await on.workers.discovery.runDue();
      const [freight] = await on.freight.list(project);
      expect(freight.commits[0].tag).toBe('v1.2.0');
      return freight.alias;
    }
    async function promoteAndFinish(project: string, stage: string, freight: string) {
      return finished(project, (await engine.promotions.promote(project, stage, freight, ACTOR)).id);
    }

    /** Steps that write a file into the GitOps repository and push it, with a test step in between. */
    const releaseSteps = (file: string, gateStep: Step, gateAfterPush = false): Step[] => {
      const push = { uses: 'git-push', as: 'push', config: { path: './out' } };
      return [
        { uses: 'git-clone', config: { repoURL: git.gitopsURL, checkout: [{ branch: 'main', path: './out' }] } },
        {
          uses: 'file-write',
          config: { path: `./out/${file}`, contents: `\${{ commitFrom("${git.appURL}").tag }}\n`, overwrite: true },
        },
        { uses: 'git-commit', as: 'commit', config: { path: './out', message: `release ${file}` } },
        ...(gateAfterPush ? [push, gateStep] : [gateStep, push]),
      ];
    };

    describe('if, success(), failure(), always(), status()', () => {
      it('runs or skips each step as its condition says, and a step without one only while all went well', async () => {
        const freight = await pipeline('conditions', [
          {
            name: 'dev',
            templateVars: [{ name: 'enabled', value: false }],
            steps: [
              { uses: 'compose-output', as: 'first', config: { env: '${{ ctx.stage }}' } },
              { uses: 'compose-output', as: 'disabled', if: '${{ vars.enabled }}', config: { x: 1 } },
              { uses: 'compose-output', as: 'enabled', if: "${{ outputs.first.env == 'dev' }}", config: { x: 2 } },
              { uses: 'fail', as: 'gate', config: { message: 'the change window is closed' } },
              { uses: 'compose-output', as: 'after', config: { x: 3 } },
              { uses: 'compose-output', as: 'onSuccess', if: '${{ success() }}', config: { x: 4 } },
              {
                uses: 'compose-output',
                as: 'onFailure',
                if: '${{ failure() }}',
                config: { gate: "${{ status('gate') }}", first: "${{ status('first') }}" },
              },
              { uses: 'compose-output', as: 'cleanup', if: '${{ always() }}', config: { after: "${{ status('after') }}" } },
            ],
          },
        ]);
        const p = await promoteAndFinish('conditions', 'dev', freight);
        expect(p.phase).toBe('Failed');
        expect(p.message).toBe('step "gate" failed: the change window is closed');
        expect(summary(p)).toEqual([
          ['first', 'Succeeded'],
          ['disabled', 'Skipped'],
          ['enabled', 'Succeeded'],
          ['gate', 'Failed'],
          ['after', 'Skipped'],
          ['onSuccess', 'Skipped'],
          ['onFailure', 'Succeeded'],
          ['cleanup', 'Succeeded'],
        ]);
        const step = (alias: string) => p.steps.find(s => s.alias === alias)!;
        expect(step('disabled').message).toBe('skipped: ${{ vars.enabled }} is false');
        expect(step('after').message).toBe('skipped: an earlier step failed');
        expect(step('onSuccess').message).toBe('skipped: ${{ success() }} is false');
        expect(step('onFailure').outputs).toEqual({ gate: 'Failed', first: 'Succeeded' });
        expect(step('cleanup').outputs).toEqual({ after: 'Skipped' });
        expect((await engine.stages.get('conditions', 'dev')).currentFreight).toBeUndefined();
      });

      it('an `if` that is not true or false fails its step, naming the condition and its value', async () => {
        const freight = await pipeline('not-boolean', [
          {
            name: 'dev',
            steps: [
              { uses: 'compose-output', as: 'check', if: '${{ ctx.stage }}', config: { x: 1 } },
              { uses: 'compose-output', as: 'next', config: { x: 2 } },
            ],
          },
        ]);
        const p = await promoteAndFinish('not-boolean', 'dev', freight);
        expect(p.phase).toBe('Failed');
        expect(p.steps[0].message).toBe('if must be true or false, but "${{ ctx.stage }}" is "dev"');
        expect(p.message).toBe('step "check" failed: if must be true or false, but "${{ ctx.stage }}" is "dev"');
        expect(summary(p)).toEqual([
          ['check', 'Failed'],
          ['next', 'Skipped'],
        ]);
      });

      it('continueOnError: the step fails, the promotion goes on and succeeds', async () => {
        const freight = await pipeline('continue', [
          {
            name: 'dev',
            steps: [
              { uses: 'fail', as: 'optional', continueOnError: true, config: { message: 'smoke test flaked' } },
              { uses: 'compose-output', as: 'next', config: { optional: "${{ status('optional') }}" } },
            ],
          },
        ]);
        const p = await promoteAndFinish('continue', 'dev', freight);
        expect(p.phase).toBe('Succeeded');
        expect(p.message).toBeUndefined();
        expect(summary(p)).toEqual([
          ['optional', 'Failed'],
          ['next', 'Succeeded'],
        ]);
        expect(p.steps[0].message).toBe('smoke test flaked');
        expect(p.steps[1].outputs).toEqual({ optional: 'Failed' });
        expect((await engine.stages.get('continue', 'dev')).currentFreight?.alias).toBe(freight);
      });
    });

    describe('vars, outputs and expression functions', () => {
      it('vars: stage, then template, then task, then step, each able to use the ones before it', async () => {
        const task = {
          name: 'render',
          spec: {
            vars: [{ name: 'level', value: 'task' }, { name: 'taskOnly', value: '${{ vars.level }} after ${{ vars.fromTemplate }}' }],
            steps: [
              { uses: 'compose-output', as: 'plain', config: { level: '${{ vars.level }}', taskOnly: '${{ vars.taskOnly }}' } },
              {
                uses: 'compose-output',
                as: 'own',
                vars: [{ name: 'level', value: 'step in task' }],
                config: { level: '${{ vars.level }}' },
              },
            ],
          },
        };
        const freight = await pipeline(
          'vars',
          [
            {
              name: 'dev',
              vars: [
                { name: 'level', value: 'stage' },
                { name: 'fromStage', value: 'set by the stage' },
                { name: 'greeting', value: 'hello' },
              ],
              templateVars: [
                { name: 'level', value: 'template' },
                { name: 'fromTemplate', value: '${{ vars.greeting }} from the ${{ vars.level }}' },
              ],
              steps: [
                {
                  uses: 'compose-output',
                  as: 'first',
                  vars: [
                    { name: 'level', value: 'step' },
                    { name: 'chained', value: '${{ vars.level }}: ${{ vars.fromTemplate }}' },
                  ],
                  config: {
                    level: '${{ vars.level }}',
                    fromStage: '${{ vars.fromStage }}',
                    fromTemplate: '${{ vars.fromTemplate }}',
                    chained: '${{ vars.chained }}',
                  },
                },
                { uses: 'compose-output', as: 'second', config: { level: '${{ vars.level }}', earlier: '${{ outputs.first.chained }}' } },
                { task: { name: 'render' }, as: 'render' },
              ],
            },
          ],
          [task],
        );
        const p = await promoteAndFinish('vars', 'dev', freight);
        expect(p.phase).toBe('Succeeded');
        const outputs = Object.fromEntries(p.steps.map(s => [s.alias, s.outputs]));
        expect(outputs.first).toEqual({
          level: 'step',
          fromStage: 'set by the stage',
          fromTemplate: 'hello from the template',
          chained: 'step: hello from the template',
        });
        // a step's vars are its own; outputs are read by alias
        expect(outputs.second).toEqual({ level: 'template', earlier: 'step: hello from the template' });
        expect(outputs['render::plain']).toEqual({ level: 'task', taskOnly: 'task after hello from the template' });
        expect(outputs['render::own']).toEqual({ level: 'step in task' });
      });

      it('semverParse, semverDiff, quote, unsafeQuote, and metadata set-metadata wrote earlier', async () => {
        const app = `commitFrom("${git.appURL}").tag`;
        const freight = await pipeline('functions', [
          {
            name: 'dev',
            steps: [
              {
                uses: 'set-metadata',
                config: {
                  updates: [
                    { kind: 'Stage', name: 'dev', values: { approvedBy: 'qa-team' } },
                    { kind: 'Freight', name: '${{ ctx.targetFreight.name }}', values: { ticket: 'REL-7' } },
                  ],
                },
              },
              {
                uses: 'compose-output',
                as: 'fns',
                config: {
                  major: `\${{ semverParse(${app}).major }}`,
                  parsed: "${{ semverParse('v2.3.4-rc.1+b5') }}",
                  diffs: [
                    `\${{ semverDiff(${app}, 'v2.0.0') }}`,
                    `\${{ semverDiff(${app}, 'v1.3.0') }}`,
                    `\${{ semverDiff(${app}, '1.2.4') }}`,
                    "${{ semverDiff('1.2.3-rc.1', '1.2.3') }}",
                    `\${{ semverDiff(${app}, 'v1.2.0') }}`,
                    "${{ semverDiff('latest', '1.2.3') }}",
                  ],
                  quoted: '${{ quote(1.5) }}',
                  unsafe: '${{ unsafeQuote(true) }}',
                  approvedBy: "${{ stageMetadata('dev', 'approvedBy') }}",
                  ticket: "${{ freightMetadata(ctx.targetFreight.alias, 'ticket') }}",
                  allOfIt: '${{ freightMetadata(ctx.targetFreight.name) }}',
                  missing: "${{ stageMetadata('dev', 'nothing') }}",
                },
              },
            ],
          },
        ]);
        const p = await promoteAndFinish('functions', 'dev', freight);
        expect(p.phase).toBe('Succeeded');
        expect(p.steps[1].outputs).toEqual({
          major: 1,
          parsed: { major: 2, minor: 3, patch: 4, prerelease: 'rc.1', metadata: 'b5', original: 'v2.3.4-rc.1+b5' },
          diffs: ['Major', 'Minor', 'Patch', 'Metadata', 'None', 'Incomparable'],
          quoted: '1.5',
          unsafe: 'true',
          approvedBy: 'qa-team',
          ticket: 'REL-7',
          allOfIt: { ticket: 'REL-7' },
          missing: null,
        });
      });

      it('an unknown function or name fails the step, naming its alias and the expression', async () => {
        const freight = await pipeline('unknown', [
          {
            name: 'dev',
            steps: [
              { uses: 'compose-output', as: 'fn', continueOnError: true, config: { x: '${{ semverBump(ctx.stage) }}' } },
              { uses: 'compose-output', as: 'name', config: { x: 'to ${{ stage.name }}' } },
            ],
          },
        ]);
        const p = await promoteAndFinish('unknown', 'dev', freight);
        expect(p.phase).toBe('Failed');
        expect(p.steps[0].status).toBe('Failed');
        expect(p.steps[0].message).toMatch(/^in "semverBump\(ctx.stage\)": unknown function "semverBump" \(known: .*semverDiff/);
        expect(p.message).toBe('step "name" failed: in "stage.name": unknown name "stage" (known: ctx, outputs, vars)');
      });
    });

    describe('PromotionTask', () => {
      const renderTask = {
        name: 'render',
        spec: {
          vars: [{ name: 'image' }, { name: 'tag', value: '${{ commitFrom(vars.appRepo).tag }}' }],
          steps: [
            { uses: 'compose-output', as: 'build', config: { ref: '${{ vars.image }}:${{ vars.tag }}' } },
            {
              uses: 'compose-output',
              as: 'publish',
              config: { published: '${{ task.outputs.build.ref }}', by: '${{ ctx.meta.step.alias }}' },
            },
          ],
        },
      };

      it('inflates into `<step>::<inner>` steps; task.outputs inside, its compose-output as outputs.<step> after', async () => {
        const freight = await pipeline(
          'tasks',
          [
            {
              name: 'dev',
              templateVars: [{ name: 'appRepo', value: git.appURL }],
              steps: [
                { task: { name: 'render' }, as: 'deploy', vars: [{ name: 'image', value: 'ghcr.io/acme/app' }] },
                { uses: 'compose-output', as: 'report', config: { published: '${{ outputs.deploy.published }}' } },
                { uses: 'compose-output', config: { inner: "${{ outputs['deploy::build'].ref }}" } },
              ],
            },
            {
              // without aliases: the call is task-<n>, the steps after it keep their place in the manifest
              name: 'qa',
              templateVars: [{ name: 'appRepo', value: git.appURL }],
              steps: [
                { task: { name: 'render' }, vars: [{ name: 'image', value: 'ghcr.io/acme/qa' }] },
                { uses: 'compose-output', config: { published: "${{ outputs['task-1'].published }}" } },
              ],
            },
          ],
          [renderTask],
        );
        const dev = await promoteAndFinish('tasks', 'dev', freight);
        expect(dev.phase).toBe('Succeeded');
        expect(dev.steps.map(s => [s.alias, s.uses, s.outputs])).toEqual([
          ['deploy::build', 'compose-output', { ref: 'ghcr.io/acme/app:v1.2.0' }],
          ['deploy::publish', 'compose-output', { published: 'ghcr.io/acme/app:v1.2.0', by: 'deploy::publish' }],
          ['report', 'compose-output', { published: 'ghcr.io/acme/app:v1.2.0' }],
          ['step-3', 'compose-output', { inner: 'ghcr.io/acme/app:v1.2.0' }],
        ]);

        const qa = await promoteAndFinish('tasks', 'qa', freight);
        expect(qa.phase).toBe('Succeeded');
        expect(qa.steps.map(s => [s.alias, s.outputs])).toEqual([
          ['task-1::build', { ref: 'ghcr.io/acme/qa:v1.2.0' }],
          ['task-1::publish', { published: 'ghcr.io/acme/qa:v1.2.0', by: 'task-1::publish' }],
          ['step-2', { published: 'ghcr.io/acme/qa:v1.2.0' }],
        ]);
      });

      it('a required input the calling step does not give fails the apply, naming the path; nothing is applied', async () => {
        const yaml = manifestsYaml(
          git,
          'tasks',
          [{ name: 'dev', steps: [{ task: { name: 'render' }, as: 'deploy', vars: [{ name: 'imag', value: 'typo' }] }] }],
          [renderTask],
        );
        const error = await engine.projects.applyManifests('tasks', yaml).then(
          () => undefined,
          e => e,
        );
        expect(error).toBeInstanceOf(ManifestValidationError);
        expect((error as ManifestValidationError).problems).toEqual([
          {
            document: 2,
            resource: 'Stage/dev',
            path: 'spec.promotionTemplate.spec.steps[0].vars',
            message: 'PromotionTask "render" needs the input "image": add {name: image, value: ...} to this step\'s vars',
          },
          {
            document: 2,
            resource: 'Stage/dev',
            path: 'spec.promotionTemplate.spec.steps[0].vars',
            message: 'PromotionTask "render" has no var "imag" (it has: image, tag)',
          },
        ]);
        expect((await engine.stages.list('tasks')).map(s => s.name)).toEqual(['dev', 'qa']);
      });
    });

    describe('waiting steps and the queue', () => {
      it('a step still running parks its promotion: the stage stays locked, the worker is free, and it resumes at that step', async () => {
        await storeWithTestSteps(engine, git, clock, 'queue', [
          {
            name: 'dev',
            steps: [
              { uses: 'test-mark', as: 'before' },
              { uses: 'test-poll', as: 'wait', config: { times: 2, retryAfterMs: 60_000 } },
              { uses: 'test-mark', as: 'after' },
            ],
          },
          { name: 'qa', steps: [{ uses: 'test-mark', as: 'only' }] },
        ]);
        const freight = await discover('queue');
        const first = await engine.promotions.promote('queue', 'dev', freight, ACTOR);
        let p = await waitingUntil('queue', first.id, at(60_000));
        expect(summary(p)).toEqual([
          ['before', 'Succeeded'],
          ['wait', 'Running'],
          ['after', 'Pending'],
        ]);
        expect(p.steps[1].message).toBe('still waiting (1)');

        // the stage is still taken: the next promotion of dev waits; qa's runs on the one worker
        const second = await engine.promotions.promote('queue', 'dev', freight, ACTOR);
        const qa = await finished('queue', (await engine.promotions.promote('queue', 'qa', freight, ACTOR)).id);
        expect(qa.phase).toBe('Succeeded');
        expect((await engine.promotions.get('queue', second.id)).phase).toBe('Pending');
        expect((await engine.promotions.get('queue', first.id)).phase).toBe('Running');

        advance(60_000);
        p = await waitingUntil('queue', first.id, at(60_000));
        expect(p.steps[1].message).toBe('still waiting (2)');
        advance(60_000);
        p = await finished('queue', first.id);
        expect(p.phase).toBe('Succeeded');
        expect(summary(p)).toEqual([
          ['before', 'Succeeded'],
          ['wait', 'Succeeded'],
          ['after', 'Succeeded'],
        ]);
        // the state it returned while running was handed back to it
        expect(p.steps[1]).toMatchObject({ message: 'done after 3 checks', outputs: { checks: 3, handedBack: { checks: 2 } } });
        expect(calls.filter(c => c.startsWith(first.id))).toEqual([
          `${first.id} before`,
          `${first.id} wait`,
          `${first.id} wait`,
          `${first.id} wait`,
          `${first.id} after`,
        ]);
        expect((await engine.stages.get('queue', 'dev')).currentFreight?.alias).toBe(freight);

        // then the next one in the stage's queue starts
        await waitingUntil('queue', second.id, at(60_000));
        expect((await engine.promotions.abort('queue', second.id, ACTOR)).phase).toBe('Aborted');
      });

      it('after a waiting step, an earlier failure still decides the outcome and its message', async () => {
        await storeWithTestSteps(engine, git, clock, 'resume-failed', [
          {
            name: 'dev',
            steps: [
              { uses: 'fail', as: 'gate', config: { message: 'tests failed' } },
              { uses: 'test-poll', as: 'cleanup', if: '${{ always() }}', config: { times: 1, retryAfterMs: 5_000 } },
              { uses: 'test-mark', as: 'deploy' },
            ],
          },
        ]);
        const freight = await discover('resume-failed');
        const { id } = await engine.promotions.promote('resume-failed', 'dev', freight, ACTOR);
        await waitingUntil('resume-failed', id, at(5_000));
        advance(5_000);
        const p = await finished('resume-failed', id);
        expect(p.phase).toBe('Failed');
        expect(p.message).toBe('step "gate" failed: tests failed');
        expect(summary(p)).toEqual([
          ['gate', 'Failed'],
          ['cleanup', 'Succeeded'],
          ['deploy', 'Skipped'],
        ]);
      });

      it('retry.timeout: a step still running after it fails, with the limit in its message', async () => {
        await storeWithTestSteps(engine, git, clock, 'timeout', [
          {
            name: 'dev',
            steps: [{ uses: 'test-poll', as: 'wait', retry: { timeout: '2m' }, config: { times: 100, retryAfterMs: 60_000 } }],
          },
        ]);
        const freight = await discover('timeout');
        const { id } = await engine.promotions.promote('timeout', 'dev', freight, ACTOR);
        await waitingUntil('timeout', id, at(60_000));
        advance(60_000);
        await waitingUntil('timeout', id, at(60_000));
        advance(61_000);
        const p = await finished('timeout', id);
        expect(p.phase).toBe('Failed');
        expect(p.steps[0]).toMatchObject({ status: 'Failed', message: 'still running after 2m (retry.timeout): still waiting (3)' });
        expect(p.message).toBe('step "wait" failed: still running after 2m (retry.timeout): still waiting (3)');
        expect(p.waitingUntil).toBeUndefined();
      });

      it('retry.errorThreshold: errors below it are retried with backoff, the count visible meanwhile', async () => {
        await storeWithTestSteps(engine, git, clock, 'errors', [
          { name: 'dev', steps: [{ uses: 'test-flaky', as: 'flaky', retry: { errorThreshold: 3 }, config: { failures: 2 } }] },
          { name: 'qa', steps: [{ uses: 'test-flaky', as: 'flaky', retry: { errorThreshold: 2 }, config: { failures: 5 } }] },
        ]);
        const freight = await discover('errors');

        const dev = await engine.promotions.promote('errors', 'dev', freight, ACTOR);
        let p = await waitingUntil('errors', dev.id, at(10_000));
        expect(p.steps[0]).toMatchObject({
          status: 'Running',
          errorCount: 1,
          message: 'error 1 in a row (retry.errorThreshold 3 fails the step): connection reset (1); trying again in 10 s',
        });
        advance(10_000);
        p = await waitingUntil('errors', dev.id, at(20_000));
        expect(p.steps[0]).toMatchObject({ errorCount: 2, message: 'error 2 in a row (retry.errorThreshold 3 fails the step): connection reset (2); trying again in 20 s' });
        advance(20_000);
        p = await finished('errors', dev.id);
        expect(p.phase).toBe('Succeeded');
        expect(p.steps[0].status).toBe('Succeeded');
        expect(p.steps[0].errorCount).toBeUndefined();
        expect(p.steps[0].outputs).toEqual({ tries: 3 });

        const qa = await engine.promotions.promote('errors', 'qa', freight, ACTOR);
        await waitingUntil('errors', qa.id, at(10_000));
        advance(10_000);
        p = await finished('errors', qa.id);
        expect(p.phase).toBe('Errored');
        expect(p.steps[0]).toMatchObject({ status: 'Errored', errorCount: 2, message: 'test-flaky errored: connection reset (2)' });
        expect(p.message).toBe('step "flaky" errored: test-flaky errored: connection reset (2)');
      });
    });

    describe('abort and supersede', () => {
      it('aborts a pending promotion and a waiting one at once; the stage is free again', async () => {
        await storeWithTestSteps(engine, git, clock, 'abort-waiting', [
          { name: 'dev', steps: [{ uses: 'test-mark', as: 'first' }, { uses: 'test-poll', as: 'wait', config: { times: 1 } }] },
        ]);
        const freight = await discover('abort-waiting');
        const waiting = await engine.promotions.promote('abort-waiting', 'dev', freight, ACTOR);
        await waitingUntil('abort-waiting', waiting.id, at(60_000));
        const pending = await engine.promotions.promote('abort-waiting', 'dev', freight, ACTOR);

        const abortedPending = await engine.promotions.abort('abort-waiting', pending.id, ACTOR);
        expect(abortedPending).toMatchObject({ phase: 'Aborted', message: `aborted by ${ACTOR}`, abortRequestedBy: ACTOR });
        expect(summary(abortedPending)).toEqual([
          ['first', 'Aborted'],
          ['wait', 'Aborted'],
        ]);

        const abortedWaiting = await engine.promotions.abort('abort-waiting', waiting.id, ACTOR);
        expect(abortedWaiting).toMatchObject({ phase: 'Aborted', message: `aborted by ${ACTOR}`, abortRequestedBy: ACTOR });
        expect(abortedWaiting.waitingUntil).toBeUndefined();
        expect(abortedWaiting.steps.map(s => [s.alias, s.status, s.message])).toEqual([
          ['first', 'Succeeded', undefined],
          ['wait', 'Aborted', `aborted by ${ACTOR}`],
        ]);
        expect((await engine.stages.get('abort-waiting', 'dev')).currentFreight).toBeUndefined();

        // the stage is free: a new promotion starts (and is aborted in turn)
        const next = await engine.promotions.promote('abort-waiting', 'dev', freight, ACTOR);
        await waitingUntil('abort-waiting', next.id, at(60_000));
        await engine.promotions.abort('abort-waiting', next.id, ACTOR);

        await expect(engine.promotions.abort('abort-waiting', waiting.id, ACTOR)).rejects.toThrow(ConflictError);
        await expect(engine.promotions.abort('abort-waiting', waiting.id, ACTOR)).rejects.toThrow(
          `promotion "${waiting.id}" already ended: it is Aborted`,
        );
      });

      it('aborts a running promotion through its step\'s signal: nothing is pushed, and the stage is free again', async () => {
        const key = `${databaseId}-abort-running`;
        await storeWithTestSteps(engine, git, clock, 'abort-running', [
          { name: 'dev', steps: releaseSteps('abort-running.txt', { uses: 'test-block', as: 'gate', config: { key } }) },
        ]);
        const freight = await discover('abort-running');
        const before = await git.commitCount('gitops', 'main');
        const { id } = await engine.promotions.promote('abort-running', 'dev', freight, ACTOR);
        await stepRunning('abort-running', id, 'gate');

        const requested = await engine.promotions.abort('abort-running', id, ACTOR);
        expect(requested).toMatchObject({ phase: 'Running', abortRequestedBy: ACTOR });
        const p = await finished('abort-running', id);
        expect(p.phase).toBe('Aborted');
        expect(p.message).toBe(`aborted by ${ACTOR}`);
        expect(p.steps.map(s => [s.alias, s.status])).toEqual([
          ['step-1', 'Succeeded'],
          ['step-2', 'Succeeded'],
          ['commit', 'Succeeded'],
          ['gate', 'Aborted'],
          ['push', 'Aborted'],
        ]);
        expect(p.steps[3].message).toBe(`aborted by ${ACTOR}`);
        expect(await git.commitCount('gitops', 'main')).toBe(before);

        const again = await promoteAndFinish('abort-running', 'dev', freight);
        expect(again.phase).toBe('Succeeded');
        expect(await git.commitCount('gitops', 'main')).toBe(before + 1);
        expect(await git.show('gitops', 'main', 'abort-running.txt')).toBe('v1.2.0');
        await expect(engine.promotions.abort('abort-running', again.id, ACTOR)).rejects.toThrow(
          `promotion "${again.id}" already ended: it is Succeeded`,
        );
      });

      it('an abort asked for while a waiting step is being checked again is not lost', async () => {
        const key = `${databaseId}-hold`;
        await storeWithTestSteps(engine, git, clock, 'abort-checking', [
          { name: 'dev', steps: [{ uses: 'test-hold', as: 'check', config: { key } }] },
        ]);
        const freight = await discover('abort-checking');
        const { id } = await engine.promotions.promote('abort-checking', 'dev', freight, ACTOR);
        await stepRunning('abort-checking', id, 'check');
        expect((await engine.promotions.abort('abort-checking', id, ACTOR)).phase).toBe('Running');
        gate(key).open(); // the check answers "still running"
        const p = await finished('abort-checking', id);
        expect(p).toMatchObject({ phase: 'Aborted', message: `aborted by ${ACTOR}` });
        expect(p.steps[0]).toMatchObject({ status: 'Aborted', message: `aborted by ${ACTOR}` });
      });

      it('supersede: a new promotion aborts the older pending ones of its stage, not the running one', async () => {
        await storeWithTestSteps(engine, git, clock, 'supersede', [
          { name: 'dev', steps: [{ uses: 'test-poll', as: 'wait', config: { times: 1 } }] },
        ]);
        const freight = await discover('supersede');
        const running = await engine.promotions.promote('supersede', 'dev', freight, ACTOR);
        await waitingUntil('supersede', running.id, at(60_000));
        const older = [await engine.promotions.promote('supersede', 'dev', freight, ACTOR), await engine.promotions.promote('supersede', 'dev', freight, ACTOR)];
        const newest = await engine.promotions.promote('supersede', 'dev', freight, ACTOR, { supersede: true });
        expect(newest.phase).toBe('Pending');
        for (const o of older) {
          const p = await engine.promotions.get('supersede', o.id);
          expect(p).toMatchObject({ phase: 'Aborted', message: `superseded by promotion ${newest.id}` });
          expect(summary(p)).toEqual([['wait', 'Aborted']]);
        }
        expect((await engine.promotions.get('supersede', running.id)).phase).toBe('Running');

        // without supersede, pending ones stay queued
        const queued = await engine.promotions.promote('supersede', 'dev', freight, ACTOR);
        expect((await engine.promotions.get('supersede', newest.id)).phase).toBe('Pending');
        for (const p of [queued, newest, running]) await engine.promotions.abort('supersede', p.id, ACTOR);
      });
    });

    describe('when a backend goes away', () => {
      it('engine.close() gives a running promotion back; another engine starts it over, and nothing is pushed twice', async () => {
        const db = await databases.init(databaseId);
        const key = `${databaseId}-close`;
        const first = await newEngine(db, 'close-1');
        await storeWithTestSteps(first, git, clock, 'handover', [
          { name: 'dev', steps: releaseSteps('handover.txt', { uses: 'test-block', as: 'gate', config: { key } }, true) },
        ]);
        const freight = await discover('handover', first);
        const before = await git.commitCount('gitops', 'main');
        first.start();
        const { id } = await first.promotions.promote('handover', 'dev', freight, ACTOR);
        await stepRunning('handover', id, 'gate', first);
        expect(await git.commitCount('gitops', 'main')).toBe(before + 1); // pushed before the gate

        await first.close();
        const given = await first.promotions.get('handover', id);
        expect(given).toMatchObject({
          phase: 'Running',
          attempts: 1,
          waitingUntil: at(),
          message: 'the backend running it shut down: it starts over from its first step',
        });
        expect(given.steps.every(s => s.status === 'Pending')).toBe(true);

        const second = await newEngine(db, 'close-2');
        second.start();
        try {
          const p = await finished('handover', id, second);
          expect(p).toMatchObject({ phase: 'Succeeded', attempts: 2 });
          expect(p.message).toBeUndefined();
          expect(summary(p).map(([, status]) => status)).toEqual(Array(5).fill('Succeeded'));
          expect(p.steps[2].message).toMatch(/^nothing to commit/);
          expect(await git.commitCount('gitops', 'main')).toBe(before + 1);
          expect(await git.show('gitops', 'main', 'handover.txt')).toBe('v1.2.0');
        } finally {
          await second.close();
          await db.destroy();
        }
      });

      it('a backend that stops answering: another starts its promotion over, and after maxAttempts ends it Errored', async () => {
        const db = await databases.init(databaseId);
        // the dead backend's clock stands still, so its claim expires for the others
        const stopped: Clock = { now: () => new Date(Date.parse('2026-12-01T08:00:00.000Z')) };
        const dead = await newEngine(db, 'dead', { clock: stopped });
        try {
          await storeWithTestSteps(dead, git, stopped, 'takeover', [
            { name: 'dev', steps: releaseSteps('takeover.txt', { uses: 'test-block', as: 'gate', config: { key: `${databaseId}-takeover` } }) },
            { name: 'qa', steps: releaseSteps('takeover-qa.txt', { uses: 'test-block', as: 'gate', config: { key: `${databaseId}-once`, times: 99 } }) },
          ]);
          const freight = await discover('takeover', dead);
          const before = await git.commitCount('gitops', 'main');
          dead.start();
          const dev = await dead.promotions.promote('takeover', 'dev', freight, ACTOR);
          await stepRunning('takeover', dev.id, 'gate', dead);

          const live = await newEngine(db, 'live');
          live.start();
          try {
            const p = await finished('takeover', dev.id, live);
            expect(p).toMatchObject({ phase: 'Succeeded', attempts: 2 });
            expect(await git.commitCount('gitops', 'main')).toBe(before + 1);
          } finally {
            await live.close();
          }

          // with maxAttempts 1, the first time is the last
          const qa = await dead.promotions.promote('takeover', 'qa', freight, ACTOR);
          await stepRunning('takeover', qa.id, 'gate', dead);
          const strict = await newEngine(db, 'strict', { maxAttempts: 1 });
          strict.start();
          try {
            const p = await finished('takeover', qa.id, strict);
            expect(p.phase).toBe('Errored');
            expect(p.message).toBe(
              `the backend running this promotion (${dead.workers.promotion.id}) stopped answering 1 time; ` +
                "check the stage's Git repository and promote again",
            );
            // what it did before the gate was never pushed; the gate and the push never ended
            expect(p.steps.map(s => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded', 'Aborted', 'Aborted']);
            expect(await git.commitCount('gitops', 'main')).toBe(before + 1);
            expect((await strict.stages.get('takeover', 'qa')).currentFreight).toBeUndefined();
          } finally {
            await strict.close();
          }
        } finally {
          await dead.close();
          await db.destroy();
        }
      });
    });
  });
});
