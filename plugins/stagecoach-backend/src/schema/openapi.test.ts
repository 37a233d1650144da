import { mockErrorHandler, mockServices } from '@backstage/backend-test-utils';
import express from 'express';
import request from 'supertest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Router } from 'express';
import { createRouter, RouterOptions } from '../service/router';
import { createWebhookRouter } from '../service/webhooks';
import { spec } from './openapi';

/** `GET /projects/{project}` for each route an express router (and the routers it mounts) serves. */
function routesOf(router: Router, prefix = ''): string[] {
  const routes: string[] = [];
  for (const layer of (router as unknown as { stack: ExpressLayer[] }).stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path)
      ? layer.route.path
      : [layer.route.path];
    for (const p of paths) {
      const template = `${prefix}${p}`.replace(/:(\w+)/g, '{$1}');
      for (const method of Object.keys(layer.route.methods)) {
        // the webhook router answers every method (405 for all but POST, which the spec lists)
        routes.push(
          `${method === '_all' ? 'POST' : method.toUpperCase()} ${template}`,
        );
      }
    }
  }
  return routes;
}

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

function operationsOfSpec(): string[] {
  const operations: string[] = [];
  for (const [route, item] of Object.entries(spec.paths)) {
    for (const method of Object.keys(item))
      operations.push(`${method.toUpperCase()} ${route}`);
  }
  return operations;
}

/** The API's router over an engine that fails the test when reached: validation answers first. */
const apiRouter = () =>
  createRouter({
    engine: {} as RouterOptions['engine'],
    httpAuth: mockServices.httpAuth(),
    access: {} as RouterOptions['access'],
    auditor: mockServices.auditor.mock(),
    catalog: {} as RouterOptions['catalog'],
    logger: mockServices.logger.mock(),
  });

async function servedRoutes(): Promise<string[]> {
  const api = await apiRouter();
  const webhooks = createWebhookRouter({
    receivers: [],
    logger: mockServices.logger.mock(),
    onEvent: async () => ({ warehouses: [] }),
  });
  return [
    // backend-openapi-utils serves the spec itself at /openapi.json: not an operation of ours
    ...routesOf(api).filter(r => r !== 'GET /openapi.json'),
    ...routesOf(webhooks, '/webhooks'),
  ];
}

describe('the OpenAPI document (src/schema/openapi.yaml)', () => {
  it('lists every route the router serves, and the router serves every operation it lists', async () => {
    const served = await servedRoutes();
    const documented = operationsOfSpec();
    expect({
      servedButNotInTheSpec: served.filter(r => !documented.includes(r)),
    }).toEqual({ servedButNotInTheSpec: [] });
    expect({
      inTheSpecButNotServed: documented.filter(r => !served.includes(r)),
    }).toEqual({ inTheSpecButNotServed: [] });
    expect(served.length).toBeGreaterThan(20);
  });

  it('has generated code that is up to date (yarn generate:openapi)', async () => {
    // the generator runs as it does from the command line; --check compares what it would write
    const script = path.resolve(__dirname, '../../scripts/generate-openapi.js');
    const result = await promisify(execFile)(
      process.execPath,
      [script, '--check'],
      {
        cwd: path.resolve(__dirname, '../..'),
      },
    ).then(
      () => 'up to date',
      (e: { stderr?: string }) => e.stderr ?? String(e),
    );
    expect(result).toBe('up to date');
  }, 60_000);

  describe('validates each request against it before the handler runs', () => {
    let app: express.Express;
    beforeAll(async () => {
      app = express()
        .use(await apiRouter())
        .use(mockErrorHandler());
    });

    it('serves the document at /openapi.json', async () => {
      const res = await request(app).get('/openapi.json');
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.paths)).toContain('/projects/{project}/stages/{stage}/promotions');
    });

    it.each([
      [
        'a body field of the wrong type',
        () =>
          request(app)
            .post('/projects/demo/stages/dev/promotions')
            .send({ freight: 5 }),
        /freight must be string/,
      ],
      [
        'a nested body field',
        () =>
          request(app)
            .post('/projects/demo/freight')
            .send({
              origin: { kind: 'Warehouse', name: 'app' },
              commits: [{ repoURL: 42 }],
            }),
        /commits\/0\/repoURL must be string/,
      ],
      [
        'a missing required body field',
        () => request(app).post('/projects/demo/freight/f/approve').send({}),
        /must have required property 'stage'/,
      ],
      [
        'a query parameter out of range',
        () => request(app).get('/projects/demo/promotions?limit=1001'),
        /limit must be <= 1000/,
      ],
      [
        'a freight page larger than 200',
        () => request(app).get('/projects/demo/freight?limit=201'),
        /limit must be <= 200/,
      ],
      [
        'a query parameter of the wrong type',
        () => request(app).get('/projects/demo/promotions?limit=ten'),
        /limit must be integer/,
      ],
      [
        'an unknown query parameter',
        () => request(app).get('/projects/demo/stages?sort=name'),
        /Unknown query parameter 'sort'/,
      ],
      [
        'an enum query parameter',
        () =>
          request(app)
            .put('/projects/demo/manifests?prune=yes')
            .type('application/yaml')
            .send('kind: Stage'),
        /prune must be equal to one of the allowed values/,
      ],
      [
        'a body of a media type the operation does not take',
        () =>
          request(app)
            .post('/projects/demo/stages/dev/promotions')
            .type('application/yaml')
            .send('freight: x'),
        /unsupported media type application\/yaml/,
      ],
    ])('answers 400 naming %s', async (_what, send, message) => {
      const res = await send();
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(message),
      });
    });
  });
});
