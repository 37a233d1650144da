import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  createPromotionStep,
  PromotionStepContext,
  StepConfigError,
} from '@stagecoach/plugin-stagecoach-node';
import {
  LOOPBACK_ALLOWED,
  loopbackServer,
} from '../../__testUtils__/loopbackHttp';
import {
  runStep,
  tempWorkDir,
  testFreight,
} from '../../__testUtils__/stepHarness';
import { StepConfigError as EngineStepConfigError } from '../workDir';
import { builtinSteps, validateStepConfig } from './index';
import { moduleStep, PromotionStepRegistry } from './moduleSteps';

const noop = (name: string, description = 'does nothing') =>
  createPromotionStep({
    name,
    description,
    schema: z.object({}).strict(),
    async run() {
      return { status: 'Succeeded' };
    },
  });

describe('PromotionStepRegistry', () => {
  it('merges the steps modules add with the built-in ones', () => {
    const registry = new PromotionStepRegistry(builtinSteps);
    registry.extensionPoint.addSteps(noop('acme-notify'), noop('acme.audit'));
    const steps = registry.seal();
    expect(steps.size).toBe(builtinSteps.size + 2);
    expect(steps.get('git-clone')).toBe(builtinSteps.get('git-clone'));
    expect(steps.get('acme-notify')).toMatchObject({
      name: 'acme-notify',
      description: 'does nothing',
    });
    expect(validateStepConfig('acme-notify', { extra: 1 }, steps)).toEqual([
      { path: ['config'], message: expect.stringContaining('extra') },
    ]);
  });

  it('gives the built-in steps as they are when no module adds any', () => {
    expect(new PromotionStepRegistry(builtinSteps).seal()).toBe(builtinSteps);
  });

  it('refuses a name a built-in step has, naming both steps', () => {
    const registry = new PromotionStepRegistry(builtinSteps);
    expect(() =>
      registry.extensionPoint.addSteps(
        noop('file-write', 'writes files our way'),
      ),
    ).toThrow(
      'cannot add the promotion step "file-write" (writes files our way): the built-in step "file-write" ' +
        "(Write text to a file in the work directory.) has that name; give the module's step another name",
    );
  });

  it("refuses a name another module's step has, and adds nothing of the refused call", () => {
    const registry = new PromotionStepRegistry(builtinSteps);
    registry.extensionPoint.addSteps(noop('acme-notify', 'posts to chat'));
    expect(() =>
      registry.extensionPoint.addSteps(
        noop('acme-audit'),
        noop('acme-notify', 'sends mail'),
      ),
    ).toThrow(
      'cannot add the promotion step "acme-notify" (sends mail): a step added by another module, ' +
        '"acme-notify" (posts to chat), has that name; give one of them another name',
    );
    expect(() =>
      registry.add([noop('twice', 'one'), noop('twice', 'two')]),
    ).toThrow(/a step added by the same call/);
    expect(
      [...registry.seal().keys()].filter(k => !builtinSteps.has(k)),
    ).toEqual(['acme-notify']);
  });

  it('refuses a step without a usable name, schema or run, and any step once sealed', () => {
    const registry = new PromotionStepRegistry(builtinSteps);
    expect(() => registry.add([noop('Acme Notify')])).toThrow(
      'cannot add the promotion step "Acme Notify": its name "Acme Notify" is not lower-case words with - or . between them',
    );
    expect(() => registry.add([{ ...noop('x'), schema: {} as never }])).toThrow(
      /its schema is not a zod schema/,
    );
    expect(() =>
      registry.add([{ ...noop('x'), run: undefined as never }]),
    ).toThrow(/it has no run function/);
    registry.seal();
    expect(() => registry.add([noop('late')])).toThrow(
      /only be added while the backend starts/,
    );
  });
});

describe("a module's step, as the engine runs it", () => {
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(() => work.cleanup());

  /** A step that hands its context to the test. */
  const probe = (
    use: (ctx: PromotionStepContext) => Promise<Record<string, unknown> | void>,
  ) =>
    moduleStep(
      createPromotionStep({
        name: 'probe',
        description: 'looks around',
        schema: z.object({}),
        async run(ctx) {
          return {
            status: 'Succeeded',
            outputs: (await use(ctx)) ?? {},
            healthCheck: { apps: [] },
          } as never;
        },
      }),
    );

  it('gets the public context only, with a copy of the freight, and returns no health check', async () => {
    let seen: PromotionStepContext | undefined;
    const freight = testFreight({
      artifacts: {
        commits: [],
        images: [
          { repoURL: 'ghcr.io/acme/api', tag: 'v1', digest: 'sha256:1' },
        ],
        charts: [],
      },
    });
    const result = await runStep(
      probe(async ctx => {
        seen = ctx;
        (ctx.freight.artifacts.images as any[]).push({ repoURL: 'evil' });
      }),
      {},
      {
        workDir: work.dir,
        freight,
        actor: 'user:default/jane',
        state: { n: 1 },
      },
    );
    expect(result).toEqual({ status: 'Succeeded', outputs: {} });
    expect(Object.keys(seen!).sort()).toEqual(
      [
        'actor',
        'alias',
        'freight',
        'logger',
        'outputs',
        'project',
        'promotionId',
        'request',
        'resolvePath',
        'signal',
        'stage',
        'state',
        'workDir',
      ].sort(),
    );
    expect(seen).toMatchObject({
      project: 'test',
      stage: 'dev',
      alias: 'step-1',
      actor: 'user:default/jane',
      state: { n: 1 },
    });
    expect(seen!.freight).toEqual({
      id: freight.id,
      alias: 'brave-otter',
      warehouse: 'app',
      createdAt: freight.createdAt,
      artifacts: {
        commits: [],
        images: [
          { repoURL: 'ghcr.io/acme/api', tag: 'v1', digest: 'sha256:1' },
          { repoURL: 'evil' },
        ],
        charts: [],
      },
    });
    expect(freight.artifacts.images).toHaveLength(1);
  });

  it('resolves paths inside the work directory only', async () => {
    await fs.symlink('/etc', path.join(work.dir, 'out'));
    const outcomes: Record<string, unknown> = {};
    await runStep(
      probe(async ctx => {
        outcomes.inside = await ctx.resolvePath('notes/release.md');
        for (const [key, given] of [
          ['absolute', '/etc/passwd'],
          ['climbing', '../x'],
          ['linked', 'out/passwd'],
          ['git', 'repo/.git/config'],
        ]) {
          outcomes[key] = await ctx
            .resolvePath(given, { field: 'file', writes: true })
            .catch(e => e);
        }
      }),
      {},
      { workDir: work.dir },
    );
    expect(outcomes.inside).toBe(path.join(work.dir, 'notes/release.md'));
    for (const key of ['absolute', 'climbing', 'linked', 'git']) {
      expect(outcomes[key]).toBeInstanceOf(StepConfigError);
      expect(outcomes[key]).toBeInstanceOf(EngineStepConfigError);
      expect((outcomes[key] as Error).message).toMatch(/^file "/);
    }
  });

  it('sends requests through the egress policy: loopback when allowed, refused with a StepConfigError otherwise', async () => {
    const server = await loopbackServer((req, res) =>
      res
        .writeHead(201, { 'X-Seen': String(req.headers['x-token']) })
        .end('made'),
    );
    try {
      const send = (egress?: typeof LOOPBACK_ALLOWED) =>
        runStep(
          probe(async ctx => {
            const answer = await ctx.request({
              url: `${server.url}/notes`,
              method: 'post',
              headers: { 'X-Token': 't0k3n' },
              body: 'hello',
            });
            return {
              status: answer.status,
              seen: answer.headers['x-seen'],
              body: answer.body.toString('utf8'),
            };
          }),
          {},
          { workDir: work.dir, ...(egress ? { egress } : {}) },
        );
      expect((await send(LOOPBACK_ALLOWED)).outputs).toEqual({
        status: 201,
        seen: 't0k3n',
        body: 'made',
      });
      expect(server.requests).toEqual([
        expect.objectContaining({ method: 'POST', url: '/notes' }),
      ]);
      // production's default policy refuses loopback
      const refused = await send().catch(e => e);
      expect(refused).toBeInstanceOf(StepConfigError);
      expect(refused.message).toMatch(/127\.0\.0\.1.*denied/);
      expect(refused.message).not.toContain('t0k3n');
    } finally {
      await server.close();
    }
  });

  it('refuses a request whose url is not a URL, without repeating it', async () => {
    const error = await runStep(
      probe(async ctx => {
        await ctx.request({ url: 'https://user:s3cr3t@[bad' });
      }),
      {},
      { workDir: work.dir },
    ).catch(e => e);
    expect(error).toBeInstanceOf(StepConfigError);
    expect(error.message).toBe('request: the url is not a valid URL');
  });
});
