import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import type { Server } from 'node:http';
import { ProjectService } from '../app/ProjectService';
import { stagecoachPlugin } from '../plugin';
import { createGitFixture, GitFixture, pipelineWithoutStage, pipelineYaml } from '../__testUtils__/gitFixture';
import { until } from '../__testUtils__/until';

jest.setTimeout(120_000);

/**
 * Issue 11, finding 8, through the real backend plugin (startTestBackend) and a real Git
 * server on loopback. On the old code: an alias bomb answered 500 (with its stack outside
 * production), a body of only a comment answered 200 and deleted every warehouse and stage,
 * a set that left a stage out removed it without a word, and nobody was recorded as having
 * applied anything.
 */
async function startBackend(git: GitFixture) {
  return startTestBackend({
    features: [
      stagecoachPlugin,
      catalogServiceMock.factory({ entities: [] }),
      mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
      mockServices.rootConfig.factory({ data: { stagecoach: { workDir: `${git.root}/work`, egress: { allowLoopback: true } } } }),
    ],
  });
}

describe('PUT /projects/{p}/manifests: limits, prune and who applied what (real backend plugin, loopback Git)', () => {
  let git: GitFixture;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let server: Server;

  beforeAll(async () => {
    git = await createGitFixture();
    backend = await startBackend(git);
    server = backend.server;
  });
  afterAll(async () => {
    // the engine stops (and its promotions' work directories are gone) before their folder is
    await backend.stop();
    await git.close();
  });

  const asJane = (r: request.Test) => r.set('Authorization', mockCredentials.user.header('user:default/jane'));
  const put = (yaml: string, query = '') =>
    asJane(request(server).put(`/api/stagecoach/projects/demo/manifests${query}`)).set('Content-Type', 'application/yaml').send(yaml);
  const get = (path: string) => asJane(request(server).get(`/api/stagecoach${path}`));
  const stageNames = async () => (await get('/projects/demo/stages')).body.items.map((s: { name: string }) => s.name);

  it('answers 400 naming the limit for an alias bomb, deep nesting and a body over 1mb, with no stack', async () => {
    let bomb = 'apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehouse\nmetadata: {name: app}\nspec:\n  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i <= 9; i++) bomb += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]\n`;
    const aliases = await put(bomb);
    expect(aliases.status).toBe(400);
    expect(aliases.body.problems).toEqual([expect.objectContaining({ message: expect.stringContaining('maxAliasCount 100') })]);
    expect(JSON.stringify(aliases.body)).not.toMatch(/\n\s+at /);

    const deep = await put(`apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehouse\nmetadata: {name: app}\nspec: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    expect(deep.status).toBe(400);
    expect(deep.body.problems).toEqual([expect.objectContaining({ message: 'is nested deeper than the limit of 64 levels of mappings and lists' })]);

    const big = await put(`# ${'x'.repeat(1024 * 1024)}\n`);
    expect(big.status).toBe(400);
    expect(big.body.error.message).toBe('the request body could not be read: request entity too large (the limit is 1mb)');
  });

  it('answers 400 for a body of only a comment, and deletes nothing', async () => {
    expect((await put(pipelineYaml(git), '?revision=abc1234')).status).toBe(200);
    const empty = await put('# nothing here\n');
    expect(empty.status).toBe(400);
    expect(empty.body.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/^the manifests hold no documents/) })]);
    expect(await stageNames()).toEqual(['dev', 'staging']);
    expect((await get('/projects/demo')).body.lastApplied).toEqual({ by: 'user:default/jane', at: expect.any(String), revision: 'abc1234' });
  });

  it('removes a stage only with ?prune=true, saying without it what would go; its promotions stay readable', async () => {
    expect((await asJane(request(server).post('/api/stagecoach/projects/demo/warehouses/app/refresh'))).status).toBe(202);
    const [freight] = await until(
      async (): Promise<Array<{ alias: string }>> => (await get('/projects/demo/freight')).body.items,
      items => items.length > 0,
      'freight from discovery',
    );
    const promoted = await asJane(request(server).post('/api/stagecoach/projects/demo/stages/dev/promotions')).send({ freight: freight.alias });
    expect(promoted.status).toBe(202);

    const withoutDev = pipelineWithoutStage(pipelineYaml(git), 'dev');
    const refused = await put(withoutDev);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^applying these manifests would remove stages dev from project "demo".*apply again with \?prune=true/);
    expect(await stageNames()).toEqual(['dev', 'staging']);

    const pruned = await put(withoutDev, '?prune=true&revision=def5678');
    expect(pruned.status).toBe(200);
    expect(await stageNames()).toEqual(['staging']);
    const history = await get('/projects/demo/manifests/history?limit=2');
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([
      expect.objectContaining({ by: 'user:default/jane', revision: 'def5678', pruned: true, changes: expect.objectContaining({ stages: { added: [], changed: ['staging'], removed: ['dev'] } }) }),
      expect.objectContaining({ by: 'user:default/jane', revision: 'abc1234', pruned: false }),
    ]);

    const promotions = await get('/projects/demo/promotions?stage=dev');
    expect(promotions.status).toBe(200);
    expect(promotions.body.items.map((p: { id: string }) => p.id)).toEqual([promoted.body.id]);
    const one = await get(`/projects/demo/promotions/${promoted.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ stage: 'dev', createdBy: 'user:default/jane' });

    expect((await put(withoutDev, '?prune=yes')).status).toBe(400);
  });
});

describe('a 500 in production carries no stack trace (Backstage error handler, real backend plugin)', () => {
  let git: GitFixture;
  const nodeEnv = process.env.NODE_ENV;

  beforeAll(async () => {
    git = await createGitFixture();
    // forced from inside the engine: an error no route expects
    jest.spyOn(ProjectService.prototype, 'list').mockRejectedValue(new Error('engine exploded'));
  });
  afterAll(async () => {
    process.env.NODE_ENV = nodeEnv;
    jest.restoreAllMocks();
    await git.close();
  });

  // the error handler decides when the backend starts: NODE_ENV=development shows stacks, anything else does not
  it.each([
    ['production', false],
    ['development', true],
  ])('NODE_ENV=%s: stack in the body %p', async (env, stack) => {
    process.env.NODE_ENV = env;
    const { server } = await startBackend(git);
    const res = await request(server).get('/api/stagecoach/projects').set('Authorization', mockCredentials.user.header('user:default/jane'));
    expect(res.status).toBe(500);
    expect(res.body.error.message).toBe('engine exploded');
    expect('stack' in res.body.error).toBe(stack);
    expect(JSON.stringify(res.body).includes('manifests.router.test')).toBe(stack);
  });
});
