import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { createWebhookRouter, readWebhookReceivers } from '.';
import type { WebhookEvent } from './types';

/**
 * The wiring the plugin uses, inside a real Backstage backend: the webhook router mounted at
 * /webhooks ahead of a JSON-parsing API router, reachable without credentials.
 */
describe('webhooks in a Backstage backend', () => {
  const secret = 'b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6';
  const events: WebhookEvent[] = [];

  const plugin = createBackendPlugin({
    pluginId: 'stagecoach',
    register(env) {
      env.registerInit({
        deps: { config: coreServices.rootConfig, httpRouter: coreServices.httpRouter, logger: coreServices.logger },
        async init({ config, httpRouter, logger }) {
          const hooks = express.Router();
          hooks.use(
            '/webhooks',
            createWebhookRouter({
              receivers: readWebhookReceivers(config),
              logger,
              onEvent: async event => {
                events.push(event);
                return { warehouses: ['demo/api'] };
              },
            }),
          );
          httpRouter.use(hooks);
          const api = express.Router();
          api.use(express.json());
          api.post('/projects', (_req, res) => {
            res.json({ ok: true });
          });
          httpRouter.use(api);
          httpRouter.addAuthPolicy({ path: '/webhooks', allow: 'unauthenticated' });
        },
      });
    },
  });

  it('receives signed deliveries without Backstage credentials, and still refuses bad ones', async () => {
    const { server } = await startTestBackend({
      features: [
        plugin,
        mockServices.rootConfig.factory({
          data: {
            stagecoach: {
              webhooks: {
                receivers: [
                  { name: 'github-main', type: 'github', secret },
                  { name: 'hub', type: 'dockerhub', secret },
                  { name: 'ci', type: 'generic', secret },
                ],
              },
            },
          },
        }),
      ],
    });
    const body = JSON.stringify({ repository: { clone_url: 'https://github.com/acme/api.git' } });
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

    const ok = await request(server)
      .post('/api/stagecoach/webhooks/github-main')
      .set({ 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': signature })
      .send(body);
    expect(ok.status).toBe(202);
    expect(events).toEqual([{ kind: 'git', repoURLs: ['https://github.com/acme/api.git'] }]);

    const bad = await request(server)
      .post('/api/stagecoach/webhooks/github-main')
      .set({ 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` })
      .send(body);
    expect(bad.status).toBe(401);

    const hub = await request(server)
      .post(`/api/stagecoach/webhooks/hub/${secret}`)
      .set('Content-Type', 'application/json')
      .send({ repository: { repo_name: 'acme/api' } });
    expect(hub.status).toBe(202);
    expect(JSON.stringify(hub.body)).not.toContain(secret);
    expect(events).toHaveLength(2);

    // a sender's own Authorization header is not taken for Backstage credentials
    const ci = await request(server)
      .post('/api/stagecoach/webhooks/ci')
      .set('Authorization', `Bearer ${secret}`)
      .send({ images: ['registry.example.com/team/app'] });
    expect(ci.status).toBe(202);
    const ciBad = await request(server)
      .post('/api/stagecoach/webhooks/ci')
      .set('Authorization', mockCredentials.user.header())
      .send({ images: ['registry.example.com/team/app'] });
    expect(ciBad.status).toBe(401);
    expect(events).toHaveLength(3);

    // the rest of the API still needs credentials
    const api = await request(server)
      .post('/api/stagecoach/projects')
      .set('Authorization', mockCredentials.none.header())
      .send({});
    expect(api.status).toBe(401);
  });
});
