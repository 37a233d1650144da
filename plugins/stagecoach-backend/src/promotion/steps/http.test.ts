import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  Handler,
  LOOPBACK_ALLOWED,
  LoopbackServer,
  loopbackConnectProxy,
  loopbackServer,
  loopbackTlsServer,
} from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { validateStepConfig } from './index';
import { httpRequest } from './http';

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Handler => (_req, res) =>
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));

describe('http step (against a loopback HTTP server)', () => {
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const servers: Array<{ close(): Promise<void> }> = [];
  const serve = async (handler: Handler) => {
    const server = await loopbackServer(handler);
    servers.push(server);
    return server;
  };
  const run = (config: Record<string, unknown>, signal?: AbortSignal) =>
    runStep(httpRequest, config, { workDir: work.dir, egress: LOOPBACK_ALLOWED, ...(signal ? { signal } : {}) });

  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(s => s.close()));
    await work.cleanup();
  });

  it('sends the method, headers, query parameters and body, and succeeds on a 2xx answer without echoing header values', async () => {
    const server = await serve((_req, res) => res.writeHead(201).end());
    const result = await run({
      method: 'POST',
      url: `${server.url}/hooks/deploy?env=dev`,
      headers: [
        { name: 'Authorization', value: 'Bearer s3cr3t-token' },
        { name: 'Content-Type', value: 'application/json' },
      ],
      queryParams: [{ name: 'stage', value: 'dev & test' }],
      body: '{"freight":"brave-otter"}',
    });
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/hooks/deploy?env=dev&stage=dev+%26+test',
        body: '{"freight":"brave-otter"}',
        headers: expect.objectContaining({ authorization: 'Bearer s3cr3t-token', 'content-type': 'application/json' }),
      }),
    ]);
    expect(result).toEqual({
      status: 'Succeeded',
      message: `POST ${server.url}/hooks/deploy?env=***&stage=*** answered 201 Created`,
      outputs: {},
    });
    expect(JSON.stringify(result)).not.toContain('s3cr3t');
  });

  it('sends a body without inventing a Content-Type, as Kargo does', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    await run({ method: 'PUT', url: server.url, body: 'raw' });
    expect(server.requests[0].body).toBe('raw');
    expect(server.requests[0].headers['content-type']).toBeUndefined();
  });

  it('sends any method Kargo would (OPTIONS, written in lower case), and refuses the ones no client sends', async () => {
    const server = await serve((_req, res) => res.writeHead(204).end());
    await run({ method: 'options', url: server.url });
    expect(server.requests[0].method).toBe('OPTIONS');
    expect(validateStepConfig('http', { url: 'https://example.com', method: 'TRACE' })).toEqual([
      { path: ['config', 'method'], message: 'TRACE requests cannot be sent: use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS' },
    ]);
    expect(validateStepConfig('http', { url: 'https://example.com', method: 'GET /x' })).toEqual([
      { path: ['config', 'method'], message: 'must be an HTTP method such as GET, POST or OPTIONS' },
    ]);
  });

  it('takes outputs from a JSON body, the status and a header the expression selects', async () => {
    const server = await serve(
      json(200, { items: [{ name: 'api', version: '1.4.2' }], ready: true }, { 'X-Request-Id': 'req-77' }),
    );
    const result = await run({
      url: `${server.url}/status`,
      outputs: [
        { name: 'version', fromExpression: 'response.body.items[0].version' },
        { name: 'status', fromExpression: 'response.status' },
        { name: 'requestId', fromExpression: 'response.headers["X-Request-Id"][0]' },
        { name: 'missing', fromExpression: 'response.body.nothing' },
      ],
    });
    expect(result.status).toBe('Succeeded');
    expect(result.outputs).toEqual({ version: '1.4.2', status: 200, requestId: 'req-77', missing: null });
  });

  it('parses YAML and plain-text answers by their content type, and responseContentType overrides it', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/yaml') res.writeHead(200, { 'Content-Type': 'application/yaml' }).end('version: "2.0"\n');
      else res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end('version: "3.0"\n');
    });
    const yaml = await run({ url: `${server.url}/yaml`, outputs: [{ name: 'v', fromExpression: 'response.body.version' }] });
    expect(yaml.outputs).toEqual({ v: '2.0' });
    // an unrecognised type that is not JSON leaves the body empty, so expressions do not trip over it
    const unknown = await run({ url: `${server.url}/bin`, outputs: [{ name: 'v', fromExpression: 'response.body.version' }] });
    expect(unknown.outputs).toEqual({ v: null });
    const forced = await run({
      url: `${server.url}/bin`,
      responseContentType: 'text/plain',
      outputs: [{ name: 'text', fromExpression: 'response.body' }],
    });
    expect(forced.outputs).toEqual({ text: 'version: "3.0"\n' });
  });

  it('succeeds when successExpression is true, with outputs', async () => {
    const server = await serve(json(200, { state: 'completed', id: 9 }));
    const result = await run({
      url: server.url,
      successExpression: "response.body.state == 'completed'",
      failureExpression: "response.body.state == 'failed'",
      outputs: [{ name: 'id', fromExpression: 'response.body.id' }],
    });
    expect(result).toEqual({ status: 'Succeeded', message: `GET ${server.url}/ answered 200 OK`, outputs: { id: 9 } });
  });

  it('fails when failureExpression is true, with the message errorExpression extracts, even if successExpression is true too', async () => {
    const server = await serve(json(404, { message: 'resource not found' }));
    const result = await run({
      url: `${server.url}/things/7`,
      successExpression: 'response.status >= 200',
      failureExpression: 'response.status >= 400 && response.status < 500',
      errorExpression: 'response.body.message',
      outputs: [{ name: 'never', fromExpression: 'response.status' }],
    });
    expect(result).toEqual({
      status: 'Failed',
      message: `GET ${server.url}/things/7 answered 404 Not Found, which meets failureExpression: "resource not found"`,
    });
  });

  it('fails with the plain message when errorExpression finds nothing in the answer', async () => {
    const server = await serve(json(500, ['not', 'an', 'object']));
    const result = await run({
      url: server.url,
      failureExpression: 'response.status == 500',
      errorExpression: 'response.body.error.detail',
    });
    expect(result).toEqual({ status: 'Failed', message: `GET ${server.url}/ answered 500 Internal Server Error, which meets failureExpression` });
  });

  it('keeps Running, asking again after the poll interval, while neither expression is met', async () => {
    let state = 'pending';
    const server = await serve((_req, res) => json(200, { state })(_req, res));
    const config = {
      url: `${server.url}/jobs/1`,
      successExpression: "response.body.state == 'done'",
      failureExpression: "response.body.state == 'failed'",
    };
    expect(await run(config)).toEqual({
      status: 'Running',
      message: `GET ${server.url}/jobs/1 answered 200 OK; neither successExpression nor failureExpression is met yet, asking again in 30s`,
      retryAfterMs: 30_000,
    });
    expect(await run({ ...config, pollInterval: '1m30s' })).toMatchObject({ status: 'Running', retryAfterMs: 90_000 });
    // as in Kargo, a failureExpression alone never succeeds
    expect(await run({ url: config.url, failureExpression: config.failureExpression })).toMatchObject({
      status: 'Running',
      message: expect.stringContaining('failureExpression is not met and there is no successExpression'),
    });
    state = 'done';
    expect(await run(config)).toMatchObject({ status: 'Succeeded' });
    expect(server.requests).toHaveLength(4);
  });

  it('without expressions, a non-2xx answer is an error naming the status, for the retry policy to retry', async () => {
    const server = await serve((_req, res) => res.writeHead(503).end('down'));
    await expect(run({ url: `${server.url}/health` })).rejects.toThrow(
      `GET ${server.url}/health answered 503 Service Unavailable`,
    );
  });

  it('an expression that does not give true or false is an error naming the field', async () => {
    const server = await serve(json(200, { state: 'x' }));
    await expect(run({ url: server.url, successExpression: 'response.body.state' })).rejects.toThrow(
      'successExpression must give true or false, got string',
    );
  });

  it('times out on a server that never answers, naming the URL with its credentials redacted and the timeout', async () => {
    const server = await serve(() => undefined);
    const url = server.url.replace('http://', 'http://deployer:hunter2@');
    const error = await run({ url: `${url}/slow?token=abc123`, timeout: '200ms' }).catch(e => e);
    expect(error.message).toBe(`GET ${server.url.replace('http://', 'http://***@')}/slow?token=*** timed out after 200ms`);
    expect(error.message).not.toMatch(/hunter2|abc123/);
    // the credentials went as Basic authentication, as Go's client (and so Kargo) sends them
    expect(server.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('deployer:hunter2').toString('base64')}`);
  });

  it('stops when the promotion is aborted', async () => {
    const abort = new AbortController();
    const server = await serve(() => abort.abort());
    await expect(run({ url: `${server.url}/wait` }, abort.signal)).rejects.toThrow(`GET ${server.url}/wait was aborted`);
  });

  it('follows redirects, and does not carry Authorization to another origin', async () => {
    const other = await serve(json(200, { where: 'other' }));
    const server = await serve((req, res) => {
      if (req.url === '/old') res.writeHead(301, { Location: '/new' }).end();
      else if (req.url === '/new') json(200, { where: 'new' })(req, res);
      else res.writeHead(302, { Location: `${other.url}/landing` }).end();
    });
    const headers = [{ name: 'Authorization', value: 'Bearer t0ken' }];
    const outputs = [{ name: 'where', fromExpression: 'response.body.where' }];
    expect((await run({ url: `${server.url}/old`, headers, outputs })).outputs).toEqual({ where: 'new' });
    expect(server.requests.map(r => [r.url, r.headers.authorization])).toEqual([
      ['/old', 'Bearer t0ken'],
      ['/new', 'Bearer t0ken'],
    ]);
    expect((await run({ url: `${server.url}/away`, headers, outputs })).outputs).toEqual({ where: 'other' });
    expect(other.requests.map(r => [r.url, r.headers.authorization])).toEqual([['/landing', undefined]]);
  });

  it('refuses an answer larger than 10 MiB without holding it all', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      // no Content-Length: the limit has to hold while reading
      for (let i = 0; i < 11; i++) res.write(chunk);
      res.end();
    });
    await expect(run({ url: `${server.url}/huge` })).rejects.toThrow(
      `the answer to GET ${server.url}/huge is larger than the 10 MiB limit`,
    );
  });

  it('refuses a self-signed certificate, and accepts it with insecureSkipTLSVerify (against a loopback HTTPS server)', async () => {
    const server: LoopbackServer = await loopbackTlsServer(json(200, { secure: 'enough' }));
    servers.push(server);
    await expect(run({ url: server.url })).rejects.toThrow(
      /^GET https:\/\/127\.0\.0\.1:\d+\/ failed: self-signed certificate \(the server's certificate does not verify; insecureSkipTLSVerify: true skips the check, not recommended\)$/,
    );
    const result = await run({
      url: server.url,
      insecureSkipTLSVerify: true,
      outputs: [{ name: 'secure', fromExpression: 'response.body.secure' }],
    });
    expect(result.outputs).toEqual({ secure: 'enough' });
  });

  it('sends the request through the proxy it names (a loopback CONNECT proxy)', async () => {
    const server = await serve(json(200, { via: 'proxy' }));
    const proxy = await loopbackConnectProxy();
    servers.push(proxy);
    const result = await run({
      url: `${server.url}/through`,
      proxy: proxy.url,
      outputs: [{ name: 'via', fromExpression: 'response.body.via' }],
    });
    expect(result.outputs).toEqual({ via: 'proxy' });
    expect(proxy.targets).toEqual([server.url.replace('http://', '')]);
  });

  it('names an unreachable server and why', async () => {
    const server = await serve(() => undefined);
    await server.close();
    await expect(run({ url: `${server.url}/gone` })).rejects.toThrow(
      `GET ${server.url}/gone failed: connect ECONNREFUSED ${server.url.slice(7)}`,
    );
  });

  it('sends bodyFromFile from the work directory and refuses paths that leave it', async () => {
    const server = await serve((_req, res) => res.writeHead(204).end());
    await fs.writeFile(path.join(work.dir, 'payload.json'), '{"from":"file"}');
    await run({ method: 'POST', url: server.url, bodyFromFile: 'payload.json' });
    expect(server.requests[0].body).toBe('{"from":"file"}');

    await expect(run({ method: 'POST', url: server.url, bodyFromFile: '../payload.json' })).rejects.toThrow(
      `bodyFromFile "../payload.json" leaves the promotion's work directory`,
    );
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-outside-'));
    try {
      await fs.writeFile(path.join(outside, 'secret.txt'), 'do not send');
      await fs.symlink(outside, path.join(work.dir, 'link'));
      await expect(run({ method: 'POST', url: server.url, bodyFromFile: 'link/secret.txt' })).rejects.toThrow(
        `bodyFromFile "link/secret.txt" leads out of the promotion's work directory through a symbolic link`,
      );
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
    await expect(run({ method: 'POST', url: server.url, bodyFromFile: 'absent.json' })).rejects.toThrow(
      'bodyFromFile "absent.json" does not exist',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('validates its configuration when manifests are applied, naming the field', () => {
    expect(validateStepConfig('http', { url: 'https://example.com', successExpression: 'response.status ==', extra: 1 })).toEqual([
      { path: ['config', 'successExpression'], message: expect.stringMatching(/^cannot parse "response.status =="/) },
      { path: ['config'], message: 'unknown field "extra"' },
    ]);
    expect(validateStepConfig('http', { url: 'ftp://example.com/x' })).toEqual([
      { path: ['config', 'url'], message: 'must be an http:// or https:// URL, not ftp:' },
    ]);
    expect(validateStepConfig('http', { url: 'https://example.com', body: 'x' })).toEqual([
      { path: ['config', 'body'], message: 'cannot be sent with a GET request; use POST, PUT, PATCH or DELETE' },
    ]);
    expect(validateStepConfig('http', { url: 'https://example.com', method: 'POST', body: 'x', bodyFromFile: 'y' })).toEqual([
      { path: ['config', 'bodyFromFile'], message: 'cannot be used together with body' },
    ]);
    expect(validateStepConfig('http', { url: 'https://example.com', timeout: 'soon' })).toEqual([
      { path: ['config', 'timeout'], message: '"soon" is not a duration such as "30s", "5m" or "1h30m"' },
    ]);
    expect(
      validateStepConfig('http', { url: 'https://example.com', headers: [{ name: 'X-Token', value: 'a\r\nEvil: 1' }] }),
    ).toEqual([{ path: ['config', 'headers', 0, 'value'], message: 'must be a single line' }]);
    // inner ${{ }} expressions are only known when the promotion runs
    expect(
      validateStepConfig('http', {
        url: '${{ vars.endpoint }}',
        successExpression: "response.body.status == '${{ vars.expected }}'",
      }),
    ).toEqual([]);
  });
});
