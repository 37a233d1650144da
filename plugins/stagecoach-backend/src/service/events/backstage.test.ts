import type { Server } from 'node:http';
import request from 'supertest';
import { createBackendPlugin } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { EventParams, eventsServiceFactory, eventsServiceRef, EventsService } from '@backstage/plugin-events-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { stagecoachPlugin } from '../../plugin';
import { createGitFixture, GitFixture, pipelineYaml } from '../../__testUtils__/gitFixture';
import { githubPush } from '../webhooks/__fixtures__/payloads';
import type { FreightCreatedEvent, PromotionFinishedEvent } from '../../app';

jest.setTimeout(120_000);

/**
 * The Stagecoach plugin in a real Backstage backend, on the real SQLite database, with the
 * events service Backstage installs by default (in-process here: `events.useEventBus: never`),
 * next to a plugin that stands for an events module (it publishes what the GitHub module would
 * after verifying a delivery) and for a consumer of Stagecoach's own events.
 */
describe("Backstage's events service (real backend plugin, real Git server over HTTP on loopback)", () => {
  let git: GitFixture;
  let server: Server;
  let events: EventsService;
  const received: EventParams[] = [];

  const neighbour = createBackendPlugin({
    pluginId: 'neighbour',
    register(env) {
      env.registerInit({
        deps: { events: eventsServiceRef },
        async init({ events: service }) {
          events = service;
          await service.subscribe({
            id: 'listener',
            topics: ['stagecoach'],
            onEvent: async params => {
              received.push(params);
            },
          });
        },
      });
    },
  });

  /** The fixture's GitHub push, made about the fixture's app repository instead of github.com/acme/api. */
  const pushOfApp = () => ({
    ...githubPush,
    repository: {
      ...githubPush.repository,
      clone_url: git.appURL,
      html_url: git.appURL.replace(/\.git$/, ''),
      url: git.appURL.replace(/\.git$/, ''),
    },
  });

  const api = () => request(server);
  const asUser = (r: request.Test) => r.set('Authorization', mockCredentials.user.header('user:default/guest'));
  const payloads = (type: string) => received.filter(e => (e.eventPayload as { type?: string }).type === type);

  async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise(r => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    git = await createGitFixture();
    ({ server } = await startTestBackend({
      features: [
        stagecoachPlugin,
        neighbour,
        eventsServiceFactory,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: {
            events: { useEventBus: 'never' },
            stagecoach: { workDir: `${git.root}/work`, egress: { allowLoopback: true } },
          },
        }),
      ],
    }));
    // applied after start-up, so that no scheduled discovery has looked at the warehouse yet
    const applied = await asUser(api().put('/api/stagecoach/projects/demo/manifests'))
      .set('Content-Type', 'application/yaml')
      .send(pipelineYaml(git));
    if (applied.status !== 200) throw new Error(`could not apply the manifests: ${JSON.stringify(applied.body)}`);
  });
  afterAll(async () => {
    await git.close();
  });

  const warehouse = async () => (await asUser(api().get('/api/stagecoach/projects/demo/warehouses/app'))).body;

  it('a push of an unrelated repository on github.push refreshes nothing', async () => {
    const before = await warehouse();
    expect(before.status.lastDiscoveryAt).toBeUndefined();

    await events.publish({ topic: 'github.push', eventPayload: githubPush, metadata: { 'x-github-event': 'push' } });
    await new Promise(r => setTimeout(r, 500));

    expect((await warehouse()).status).toEqual(before.status);
    expect(received).toEqual([]);
  });

  it('a push of the subscribed repository on github.push refreshes its warehouse, which publishes freight.created', async () => {
    await events.publish({
      topic: 'github.push',
      eventPayload: pushOfApp(),
      metadata: { 'x-github-event': 'push', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
    });

    const created = await waitFor('freight.created', () => payloads('freight.created')[0]);
    expect(created.topic).toBe('stagecoach');
    const event = created.eventPayload as FreightCreatedEvent;
    expect(event).toMatchObject({
      type: 'freight.created',
      project: 'demo',
      warehouse: 'app',
      source: 'discovery',
      freight: { project: 'demo', origin: { kind: 'Warehouse', name: 'app' }, commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }] },
    });
    expect(event.freight.id).toMatch(/^[0-9a-f]{40}$/);
    expect(event.freight.alias).toEqual(expect.any(String));

    const status = (await warehouse()).status;
    expect(status.lastDiscoveryAt).toEqual(expect.any(String));
    expect(status.lastFreightId).toBe(event.freight.id);
  });

  it('an event that crossed the event bus without its metadata is read from its topic', async () => {
    await git.tagApp('v2.0.0');
    await events.publish({ topic: 'github.push', eventPayload: { ...pushOfApp(), ref: 'refs/tags/v2.0.0' } });

    const created = await waitFor('the second freight.created', () => payloads('freight.created')[1]);
    expect(created.eventPayload).toMatchObject({
      type: 'freight.created',
      source: 'discovery',
      freight: { commits: [{ tag: 'v2.0.0' }] },
    });
    expect(payloads('freight.created')).toHaveLength(2);
  });

  it('a promotion that finishes publishes promotion.finished', async () => {
    const freight = (payloads('freight.created')[1].eventPayload as FreightCreatedEvent).freight;
    const queued = await asUser(api().post('/api/stagecoach/projects/demo/stages/dev/promotions')).send({ freight: freight.alias });
    expect(queued.status).toBe(202);

    const finished = await waitFor('promotion.finished', () => payloads('promotion.finished')[0]);
    expect(finished.eventPayload).toMatchObject({
      type: 'promotion.finished',
      project: 'demo',
      stage: 'dev',
      phase: 'Succeeded',
      promotion: { id: queued.body.id, freight: { id: freight.id }, createdBy: 'user:default/guest', phase: 'Succeeded' },
    });
    expect((finished.eventPayload as PromotionFinishedEvent).promotion.steps.every(s => s.status === 'Succeeded')).toBe(true);
    expect(await git.show('gitops', 'main', 'env/dev/values.yaml')).toContain('tag: v2.0.0');
  });
});
