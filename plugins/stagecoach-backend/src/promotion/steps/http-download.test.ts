import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Handler, LOOPBACK_ALLOWED, loopbackServer } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { validateStepConfig } from './index';
import { httpDownload } from './http-download';

describe('http-download step (against a loopback HTTP server)', () => {
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const servers: Array<{ close(): Promise<void> }> = [];
  const serve = async (handler: Handler) => {
    const server = await loopbackServer(handler);
    servers.push(server);
    return server;
  };
  const run = (config: Record<string, unknown>) => runStep(httpDownload, config, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
  const inWork = (p: string) => path.join(work.dir, p);
  const exists = (p: string) => fs.access(inWork(p)).then(() => true, () => false);

  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(s => s.close()));
    await work.cleanup();
  });

  it('streams the body to outPath, creating its folders, with the headers and query parameters given', async () => {
    const archive = randomBytes(3 * 1024 * 1024 + 17);
    const server = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/gzip' }).end(archive));
    const result = await run({
      url: `${server.url}/charts/app-1.2.3.tgz`,
      outPath: 'charts/app/app.tgz',
      headers: [{ name: 'Authorization', value: 'token s3cr3t' }],
      queryParams: [{ name: 'version', value: '1.2.3' }],
    });
    // by digest: jest compares big buffers byte by byte, slowly
    const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha256(await fs.readFile(inWork('charts/app/app.tgz')))).toBe(sha256(archive));
    expect(result).toEqual({
      status: 'Succeeded',
      message: `downloaded ${server.url}/charts/app-1.2.3.tgz?version=*** to charts/app/app.tgz (3 MiB)`,
    });
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      url: '/charts/app-1.2.3.tgz?version=1.2.3',
      headers: expect.objectContaining({ authorization: 'token s3cr3t' }),
    });
    expect(JSON.stringify(result)).not.toContain('s3cr3t');
    // nothing else left beside it
    expect(await fs.readdir(inWork('charts/app'))).toEqual(['app.tgz']);
  });

  it('fails naming the status on a non-2xx answer, and writes nothing', async () => {
    const server = await serve((_req, res) => res.writeHead(404).end('no such chart'));
    expect(await run({ url: `${server.url}/missing.tgz`, outPath: 'out/missing.tgz' })).toEqual({
      status: 'Failed',
      message: `GET ${server.url}/missing.tgz answered 404 Not Found`,
    });
    expect(await fs.readdir(work.dir)).toEqual([]);
  });

  it('follows redirects to the file', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/latest') res.writeHead(302, { Location: '/releases/v2/app.yaml' }).end();
      else res.writeHead(200).end('kind: Deployment\n');
    });
    expect(await run({ url: `${server.url}/latest`, outPath: 'app.yaml' })).toMatchObject({ status: 'Succeeded' });
    expect(await fs.readFile(inWork('app.yaml'), 'utf8')).toBe('kind: Deployment\n');
    expect(server.requests.map(r => r.url)).toEqual(['/latest', '/releases/v2/app.yaml']);
  });

  it('refuses to overwrite an existing file unless allowOverwrite is set', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end('new'));
    await fs.writeFile(inWork('values.yaml'), 'old');
    expect(await run({ url: server.url, outPath: 'values.yaml' })).toEqual({
      status: 'Failed',
      message: 'outPath "values.yaml" already exists; set allowOverwrite: true to replace it',
    });
    expect(await fs.readFile(inWork('values.yaml'), 'utf8')).toBe('old');
    expect(server.requests).toHaveLength(0);

    expect(await run({ url: server.url, outPath: 'values.yaml', allowOverwrite: true })).toMatchObject({
      status: 'Succeeded',
    });
    expect(await fs.readFile(inWork('values.yaml'), 'utf8')).toBe('new');
  });

  it('refuses an outPath that leaves the work directory, by .. or through a symbolic link', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end('x'));
    await expect(run({ url: server.url, outPath: '../escaped.txt' })).rejects.toThrow(
      `outPath "../escaped.txt" leaves the promotion's work directory`,
    );
    await expect(run({ url: server.url, outPath: '/etc/escaped.txt' })).rejects.toThrow(
      `outPath "/etc/escaped.txt" must be relative to the promotion's work directory`,
    );
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-outside-'));
    try {
      await fs.symlink(outside, inWork('repo-link'));
      await expect(run({ url: server.url, outPath: 'repo-link/deeper/escaped.txt' })).rejects.toThrow(
        `outPath "repo-link/deeper/escaped.txt" leads out of the promotion's work directory through a symbolic link`,
      );
      expect(await fs.readdir(outside)).toEqual([]);
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
    expect(server.requests).toHaveLength(0);
  });

  it('removes the partial file when the connection drops mid-body, and keeps the file it was to replace', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(1024 * 1024) });
      res.write(Buffer.alloc(64 * 1024, 'y'), () => res.destroy());
    });
    await fs.mkdir(inWork('dist'));
    await fs.writeFile(inWork('dist/bundle.js'), 'previous');
    await expect(run({ url: `${server.url}/bundle.js`, outPath: 'dist/bundle.js', allowOverwrite: true })).rejects.toThrow(
      new RegExp(`^the answer to GET ${server.url}/bundle.js broke off after \\d+ bytes: terminated`),
    );
    expect(await fs.readdir(inWork('dist'))).toEqual(['bundle.js']);
    expect(await fs.readFile(inWork('dist/bundle.js'), 'utf8')).toBe('previous');

    await expect(run({ url: `${server.url}/bundle.js`, outPath: 'dist/fresh.js' })).rejects.toThrow(/broke off/);
    expect(await exists('dist/fresh.js')).toBe(false);
    expect(await fs.readdir(inWork('dist'))).toEqual(['bundle.js']);
  });

  it('times out on a server that never answers, naming the URL and the timeout, and leaves no file', async () => {
    const server = await serve(() => undefined);
    await expect(run({ url: `${server.url}/stuck.tgz`, outPath: 'stuck.tgz', timeout: '200ms' })).rejects.toThrow(
      `GET ${server.url}/stuck.tgz timed out after 200ms`,
    );
    expect(await fs.readdir(work.dir)).toEqual([]);
  });

  it('refuses a download that says it is larger than 100 MiB before writing any of it', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(100 * 2 ** 20 + 1) });
      res.write('start');
    });
    await expect(run({ url: `${server.url}/huge.iso`, outPath: 'huge.iso' })).rejects.toThrow(
      `the answer to GET ${server.url}/huge.iso is larger than the 100 MiB limit (104857601 bytes)`,
    );
    expect(await fs.readdir(work.dir)).toEqual([]);
  });

  it('refuses an outPath that is a directory', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end('x'));
    await fs.mkdir(inWork('charts'));
    await expect(run({ url: server.url, outPath: 'charts', allowOverwrite: true })).rejects.toThrow(
      'outPath "charts" is a directory; name the file to write',
    );
  });

  it('validates its configuration when manifests are applied, naming the field', () => {
    expect(validateStepConfig('http-download', { url: 'https://example.com/a.tgz' })).toEqual([
      { path: ['config', 'outPath'], message: 'is required' },
    ]);
    expect(validateStepConfig('http-download', { url: 'https://example.com/a', outPath: 'a', method: 'POST' })).toEqual([
      { path: ['config'], message: 'unknown field "method"' },
    ]);
  });
});
