import type { KubeClusters } from '../../integrations/kubernetes/types';
import { LOOPBACK_ALLOWED, loopbackServer, loopbackTlsServer, LoopbackServer } from '../../__testUtils__/loopbackHttp';
import { silentLogger } from '../../util/types';
import type { MeasureContext, Metric } from '../types';
import { verificationCredentials } from '../credentials';
import { webProvider } from './web';

const ctx: MeasureContext = {
  project: 'shop',
  stage: 'prod',
  verificationId: 'v1',
  fetch: globalThis.fetch,
  egress: LOOPBACK_ALLOWED,
  kube: {} as KubeClusters,
  jobs: { namespace: 'default' },
  logger: silentLogger,
  now: () => new Date(),
};

function metric(web: Record<string, unknown>, conditions: Partial<Metric> = {}): Metric {
  return { name: 'health', count: 1, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, provider: { web }, ...conditions };
}

describe('web metric provider (loopback HTTP server)', () => {
  let server: LoopbackServer;
  let answer: { status: number; body: string; type?: string; hang?: boolean };

  beforeAll(async () => {
    server = await loopbackServer((_req, res) => {
      if (answer.hang) return;
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' });
      res.end(answer.body);
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('judges the JSONPath of a JSON answer', async () => {
    answer = { status: 200, body: JSON.stringify({ data: { ok: true, ratio: 0.99 } }) };
    const ok = await webProvider.run(ctx, metric({ url: `${server.url}/health`, jsonPath: '{$.data}' }, { successCondition: 'result.ok && result.ratio > 0.95' }));
    expect(ok).toMatchObject({ phase: 'Successful', value: '{"ok":true,"ratio":0.99}', metadata: { url: `${server.url}/health` } });
    expect(ok.finishedAt).toBeDefined();
    const failed = await webProvider.run(ctx, metric({ url: `${server.url}/health`, jsonPath: '{.data.ratio}' }, { successCondition: 'result > 0.995' }));
    expect(failed).toMatchObject({ phase: 'Failed', value: '0.99', message: 'result 0.99 did not satisfy result > 0.995' });
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/health' });
  });

  it('adds app-config credentials for the URL (the longest prefix), keeping a header the metric sets, and never shows them', async () => {
    answer = { status: 401, body: '{"error":"bad token"}' };
    const credentials = verificationCredentials([
      { url: `${server.url}/`, headers: { Authorization: 'Bearer host-wide-token' } },
      { url: `${server.url}/team-a/`, headers: { Authorization: 'Bearer team-a-token', 'X-Scope-OrgID': 'team-a' } },
    ]);
    const m = await webProvider.run({ ...ctx, credentials }, metric({ url: `${server.url}/team-a/health` }));
    expect(server.requests[0].headers).toMatchObject({ authorization: 'Bearer team-a-token', 'x-scope-orgid': 'team-a' });
    expect(m.phase).toBe('Error');
    expect(JSON.stringify(m)).not.toContain('team-a-token');
    await webProvider.run({ ...ctx, credentials }, metric({ url: `${server.url}/other`, headers: [{ key: 'authorization', value: 'Bearer own' }] }));
    expect(server.requests[1].headers.authorization).toBe('Bearer own');
    await webProvider.run({ ...ctx, credentials }, metric({ url: `${server.url}/other` }));
    expect(server.requests[2].headers.authorization).toBe('Bearer host-wide-token');
  });

  it('sends POST with jsonBody as JSON, and the headers', async () => {
    answer = { status: 201, body: '{"accepted": true}' };
    const m = await webProvider.run(
      ctx,
      metric(
        { url: `${server.url}/check`, method: 'POST', jsonBody: { stage: 'prod', n: 2 }, headers: [{ key: 'Authorization', value: 'Bearer t0ken-value' }] },
        { successCondition: 'result.accepted' },
      ),
    );
    expect(m.phase).toBe('Successful');
    expect(server.requests[0]).toMatchObject({ method: 'POST', body: '{"stage":"prod","n":2}' });
    expect(server.requests[0].headers).toMatchObject({ authorization: 'Bearer t0ken-value', 'content-type': 'application/json' });
  });

  it('sends a PUT body as written', async () => {
    answer = { status: 200, body: 'true' };
    const m = await webProvider.run(ctx, metric({ url: `${server.url}/x`, method: 'PUT', body: 'ping' }, { successCondition: 'result == true' }));
    expect(m.phase).toBe('Successful');
    expect(server.requests[0]).toMatchObject({ method: 'PUT', body: 'ping' });
  });

  it('is an Error on a non-2xx answer, naming the status but not the header values', async () => {
    answer = { status: 503, body: 'down' };
    const m = await webProvider.run(ctx, metric({ url: `${server.url}/health`, headers: [{ key: 'X-Api-Key', value: 'sup3r-secret-key' }] }));
    expect(m).toMatchObject({ phase: 'Error', message: `GET ${server.url}/health answered 503 Service Unavailable` });
    expect(JSON.stringify(m)).not.toContain('sup3r-secret-key');
  });

  it('is an Error when a jsonPath is given and the answer is not JSON; plain text is judged as text', async () => {
    answer = { status: 200, body: 'OK', type: 'text/plain' };
    const m = await webProvider.run(ctx, metric({ url: `${server.url}/health`, jsonPath: '{$.ok}' }));
    expect(m.phase).toBe('Error');
    expect(m.message).toBe(`the answer to GET ${server.url}/health is not JSON, so jsonPath {$.ok} cannot be applied (it starts: "OK")`);
    const text = await webProvider.run(ctx, metric({ url: `${server.url}/health` }, { successCondition: 'result == "OK"' }));
    expect(text).toMatchObject({ phase: 'Successful', value: '"OK"' });
  });

  it('is an Error when the jsonPath matches nothing', async () => {
    answer = { status: 200, body: '{"a": 1}' };
    const m = await webProvider.run(ctx, metric({ url: `${server.url}/health`, jsonPath: '{$.b}' }));
    expect(m).toMatchObject({ phase: 'Error', message: `jsonPath {$.b} matched nothing in the answer to GET ${server.url}/health` });
  });

  it('gives up after timeoutSeconds', async () => {
    answer = { status: 200, body: '', hang: true };
    const m = await webProvider.run(ctx, metric({ url: `${server.url}/slow`, timeoutSeconds: 1 }));
    expect(m).toMatchObject({ phase: 'Error', message: `GET ${server.url}/slow timed out after 1s` });
  });

  it('is an Error when the configuration is wrong, naming the field', async () => {
    const m = await webProvider.run(ctx, metric({ url: `${server.url}/x`, method: 'GET', body: 'x' }));
    expect(m).toMatchObject({ phase: 'Error', message: 'provider.web.method a request with body must use method POST or PUT' });
  });
});

describe('web metric provider (loopback HTTPS server)', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await loopbackTlsServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok": true}');
    });
  });
  afterAll(() => server.close());

  it('refuses a self-signed certificate unless insecure is set', async () => {
    const refused = await webProvider.run(ctx, metric({ url: `${server.url}/health` }));
    expect(refused.phase).toBe('Error');
    expect(refused.message).toContain("the server's certificate does not verify");
    const ok = await webProvider.run(ctx, metric({ url: `${server.url}/health`, insecure: true, jsonPath: '{$.ok}' }, { successCondition: 'result' }));
    expect(ok).toMatchObject({ phase: 'Successful', value: 'true' });
  });
});
