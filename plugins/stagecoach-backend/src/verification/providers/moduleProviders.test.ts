import { z } from 'zod';
import {
  createVerificationProvider,
  VerificationProvider,
  VerificationProviderContext,
  VerificationProviderMetric,
} from '@stagecoach/plugin-stagecoach-node';
import type { KubeClusters } from '../../integrations/kubernetes/types';
import { silentLogger } from '../../util/types';
import { analysisTemplateSpecSchemaFor } from '../analysisTemplate';
import { advanceAnalysis } from '../analysisRun';
import type { MeasureContext, Metric } from '../types';
import { builtinProviders } from './index';
import {
  moduleProvider,
  moduleProviderSchemas,
  VerificationProviderRegistry,
} from './moduleProviders';

const NOW = new Date('2024-05-01T10:00:00Z');

const ctx: MeasureContext = {
  project: 'shop',
  stage: 'prod',
  verificationId: 'v1',
  fetch: globalThis.fetch,
  kube: {} as KubeClusters,
  jobs: { namespace: 'default' },
  logger: silentLogger,
  now: () => NOW,
  measurement: 3,
};

const metric = (
  config: unknown,
  fields: Partial<Metric> = {},
  name = 'acmeStatus',
): Metric => ({
  name: 'status',
  count: 1,
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 4,
  provider: { [name]: config } as Metric['provider'],
  ...fields,
});

const schema = z
  .object({ board: z.string().min(1, 'must name a board') })
  .strict();

const provider = (
  overrides: Partial<VerificationProvider<z.infer<typeof schema>>> = {},
) =>
  createVerificationProvider({
    name: 'acmeStatus',
    description: 'reads the acme status board',
    schema,
    run: async c => c.measured('green'),
    ...overrides,
  });

describe('VerificationProviderRegistry', () => {
  it('merges the providers modules add with the built-in ones, and gives their schemas to the manifests', () => {
    const registry = new VerificationProviderRegistry(builtinProviders);
    registry.extensionPoint.addProviders(provider());
    const providers = registry.seal();
    expect([...providers.keys()]).toEqual([
      'web',
      'prometheus',
      'job',
      'acmeStatus',
    ]);
    expect(providers.get('web')).toBe(builtinProviders.get('web'));
    expect(providers.get('acmeStatus')).toMatchObject({
      name: 'acmeStatus',
      description: 'reads the acme status board',
    });
    expect([...moduleProviderSchemas(providers).keys()]).toEqual([
      'acmeStatus',
    ]);
  });

  it('gives the built-in providers as they are when no module adds any', () => {
    expect(new VerificationProviderRegistry(builtinProviders).seal()).toBe(
      builtinProviders,
    );
    expect(moduleProviderSchemas(builtinProviders).size).toBe(0);
  });

  it('refuses a name a built-in provider has, naming both providers', () => {
    const registry = new VerificationProviderRegistry(builtinProviders);
    expect(() =>
      registry.extensionPoint.addProviders(
        provider({ name: 'prometheus', description: 'queries our Thanos' }),
      ),
    ).toThrow(
      'cannot add the verification provider "prometheus" (queries our Thanos): the built-in provider "prometheus" ' +
        "(Run a PromQL query against Prometheus; its answer is the result.) has that name; give the module's provider another name",
    );
  });

  it("refuses a name another module's provider has, and adds nothing of the refused call", () => {
    const registry = new VerificationProviderRegistry(builtinProviders);
    registry.extensionPoint.addProviders(provider());
    expect(() =>
      registry.extensionPoint.addProviders(
        provider({ name: 'acmeTickets' }),
        provider({ description: 'the other status board' }),
      ),
    ).toThrow(
      'cannot add the verification provider "acmeStatus" (the other status board): a provider added by another module, ' +
        '"acmeStatus" (reads the acme status board), has that name; give one of them another name',
    );
    expect(() =>
      registry.add([provider({ name: 'twice' }), provider({ name: 'twice' })]),
    ).toThrow(/a provider added by the same call/);
    expect(
      [...registry.seal().keys()].filter(k => !builtinProviders.has(k)),
    ).toEqual(['acmeStatus']);
  });

  it('refuses what is not a provider, and anything once the backend has started', () => {
    const registry = new VerificationProviderRegistry(builtinProviders);
    expect(() => registry.add([provider({ name: 'status-board' })])).toThrow(
      'cannot add the verification provider "status-board": its name "status-board" is not a lower camel-case word (such as statuspage or newRelic)',
    );
    expect(() =>
      registry.add([provider({ schema: {} as typeof schema })]),
    ).toThrow('its schema is not a zod schema');
    registry.seal();
    expect(() => registry.add([provider()])).toThrow(
      "verification providers can only be added while the backend starts, from a module's init",
    );
  });
});

describe('a module provider as the engine runs it', () => {
  it('gets the public context and the metric with its config parsed, and judges with the conditions', async () => {
    let seen:
      | { ctx: VerificationProviderContext; metric: VerificationProviderMetric }
      | undefined;
    const adapted = moduleProvider(
      provider({
        async run(c, m) {
          seen = { ctx: c, metric: m };
          return c.measured(
            { colour: 'green', open: 0 },
            {
              metadata: { board: m.config.board },
            },
          );
        },
      }),
    );
    const m = await adapted.run(
      ctx,
      metric(
        { board: 'payments' },
        { successCondition: 'result.colour == "green" && result.open == 0' },
      ),
    );
    expect(m).toEqual({
      phase: 'Successful',
      value: '{"colour":"green","open":0}',
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      metadata: { board: 'payments' },
    });
    expect(Object.keys(seen!.ctx).sort()).toEqual([
      'logger',
      'measured',
      'measurement',
      'now',
      'project',
      'request',
      'signal',
      'stage',
      'verificationId',
    ]);
    expect(seen!.ctx).toMatchObject({
      project: 'shop',
      stage: 'prod',
      verificationId: 'v1',
      measurement: 3,
    });
    expect(seen!.metric).toEqual({
      name: 'status',
      count: 1,
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
      successCondition: 'result.colour == "green" && result.open == 0',
      config: { board: 'payments' },
    });
  });

  it('answers a config its schema refuses (args substituted) with an Error naming the field, without calling the provider', async () => {
    const run = jest.fn();
    const adapted = moduleProvider(provider({ run }));
    await expect(adapted.run(ctx, metric({ board: '' }))).resolves.toEqual(
      expect.objectContaining({
        phase: 'Error',
        message: 'provider.acmeStatus.board must name a board',
      }),
    );
    await expect(
      adapted.run(ctx, metric({ board: 'a', colour: 'red' })),
    ).resolves.toMatchObject({
      phase: 'Error',
      message: 'provider.acmeStatus has unknown field "colour"',
    });
    expect(run).not.toHaveBeenCalled();
  });

  it('refuses what is not a measurement, keeps values and metadata as text, and caps the value', async () => {
    const answering = (answer: unknown) =>
      moduleProvider(provider({ run: async () => answer as any }));
    await expect(
      answering({ phase: 'Done' }).run(ctx, metric({ board: 'a' })),
    ).rejects.toThrow(
      'returned a measurement with phase "Done": the acmeStatus provider must return one that is Running, Successful, Failed, Error or Inconclusive',
    );
    await expect(
      answering(undefined).run(ctx, metric({ board: 'a' })),
    ).rejects.toThrow('returned no measurement');
    await expect(
      answering({
        phase: 'Running',
        startedAt: NOW.toISOString(),
        value: 3,
        metadata: { ticket: 42 },
      }).run(ctx, metric({ board: 'a' })),
    ).resolves.toEqual({
      phase: 'Running',
      startedAt: NOW.toISOString(),
      value: '3',
      metadata: { ticket: '42' },
    });
    const large = await moduleProvider(
      provider({ run: async c => c.measured('x'.repeat(100)) }),
    ).run({ ...ctx, maxResultBytes: 64 }, metric({ board: 'a' }));
    expect(large).toMatchObject({
      phase: 'Error',
      message: expect.stringMatching(
        /^the result is .+, more than the .+ a measurement may keep \(stagecoach.verification.maxResultBytes\): keep only what the conditions read$/,
      ),
    });
    expect(large.value).toBeUndefined();
  });

  it("sends requests through the egress policy (production's refuses loopback)", async () => {
    const adapted = moduleProvider(
      provider({
        run: async c => {
          await c.request({ url: 'http://127.0.0.1:9/status' });
          return c.measured('reached');
        },
      }),
    );
    await expect(adapted.run(ctx, metric({ board: 'a' }))).rejects.toThrow(
      /127\.0\.0\.1/,
    );
  });

  describe('the measurement deadline', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick'] }));
    afterEach(() => jest.useRealTimers());

    it('aborts the signal after 60 seconds and gives up on a provider that does not answer', async () => {
      let signal: AbortSignal | undefined;
      const adapted = moduleProvider(
        provider({
          run: c => {
            signal = c.signal;
            return new Promise(() => {});
          },
        }),
      );
      const outcome = adapted
        .run(ctx, metric({ board: 'a' }))
        .catch((e: Error) => e.message);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(await outcome).toBe(
        'did not answer within 60 seconds: a longer measurement answers Running and is resumed',
      );
      expect(signal?.aborted).toBe(true);
    });
  });

  it('resumes and terminates Running measurements, numbered as the analysis numbers them', async () => {
    const numbers: string[] = [];
    const adapted = moduleProvider(
      provider({
        run: async c => {
          numbers.push(`run ${c.measurement}`);
          return {
            phase: 'Running',
            startedAt: c.now().toISOString(),
            metadata: { ticket: 'T-1' },
          };
        },
        resume: async (c, _m, running) => {
          numbers.push(`resume ${c.measurement}`);
          return c.measured(running.metadata?.ticket);
        },
        terminate: async c => {
          numbers.push(`terminate ${c.measurement}`);
        },
      }),
    );
    const providers = new Map([[adapted.name, adapted]]);
    const analysis = {
      templates: ['t'],
      args: {},
      metrics: [
        metric({ board: 'a' }, { successCondition: 'result == "T-1"' }),
      ],
    };
    const state = { startedAt: NOW.toISOString() };
    const first = await advanceAnalysis(analysis, state, providers, ctx);
    expect(first.metrics[0].measurements[0]).toMatchObject({
      phase: 'Running',
    });
    const second = await advanceAnalysis(
      analysis,
      { ...state, metrics: first.metrics },
      providers,
      ctx,
    );
    expect(second.phase).toBe('Successful');
    expect(second.metrics[0].measurements).toEqual([
      expect.objectContaining({
        phase: 'Successful',
        value: '"T-1"',
        startedAt: NOW.toISOString(),
      }),
    ]);
    const stopped = await adapted.terminate!(
      { ...ctx, measurement: 1 },
      metric({ board: 'a' }),
      first.metrics[0].measurements[0],
    );
    expect(stopped).toEqual(first.metrics[0].measurements[0]);
    expect(numbers).toEqual(['run 1', 'resume 1', 'terminate 1']);
  });
});

describe('AnalysisTemplates with the providers modules add', () => {
  const specSchema = analysisTemplateSpecSchemaFor(
    new Map([['acmeStatus', schema]]),
  );
  const problems = (given: Record<string, unknown>) => {
    const r = specSchema.safeParse({
      metrics: [{ name: 'x', provider: given }],
    });
    return r.success
      ? []
      : r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`);
  };

  it("accepts a module's provider and checks its config with its schema, leaving {{args.x}} for later", () => {
    expect(problems({ acmeStatus: { board: 'payments' } })).toEqual([]);
    expect(problems({ acmeStatus: { board: '{{args.board}}' } })).toEqual([]);
    expect(problems({ acmeStatus: { board: '' } })).toEqual([
      'metrics.0.provider.acmeStatus.board: must name a board',
    ]);
  });

  it('names every provider it runs when refusing one, and keeps one provider per metric', () => {
    expect(problems({ datadog: {} })).toEqual([
      'metrics.0.provider.datadog: the datadog provider is not supported: Stagecoach runs web, prometheus, job and acmeStatus metrics',
    ]);
    expect(problems({ pingdom: {} })).toEqual([
      'metrics.0.provider.pingdom: unknown metric provider "pingdom": Stagecoach runs web, prometheus, job and acmeStatus metrics',
    ]);
    expect(problems({})).toEqual([
      'metrics.0.provider: needs one provider: web, prometheus, job or acmeStatus',
    ]);
    expect(
      problems({
        web: { url: 'https://a.example' },
        acmeStatus: { board: 'a' },
      }),
    ).toEqual([
      'metrics.0.provider: has web and acmeStatus: a metric has exactly one provider',
    ]);
  });

  it('lets a module run a Rollouts provider Stagecoach does not', () => {
    const withDatadog = analysisTemplateSpecSchemaFor(
      new Map([['datadog', z.object({ query: z.string() }).strict()]]),
    );
    expect(
      withDatadog.safeParse({
        metrics: [
          { name: 'x', provider: { datadog: { query: 'sum:errors' } } },
        ],
      }).success,
    ).toBe(true);
  });
});
