import fs from 'node:fs/promises';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';

/** A Helm repository served as static files from a folder, like any web server would. */
export async function staticServer(root: string) {
  const requests: Array<{ url: string; status: number }> = [];
  const server = http.createServer(async (req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    try {
      const stat = await fs.stat(file);
      const etag = `"${stat.size}-${stat.mtimeMs}"`;
      if (req.headers['if-none-match'] === etag) {
        requests.push({ url: req.url!, status: 304 });
        res.writeHead(304).end();
        return;
      }
      requests.push({ url: req.url!, status: 200 });
      res.writeHead(200, { ETag: etag, 'Content-Type': 'application/x-yaml' });
      res.end(await fs.readFile(file));
    } catch {
      requests.push({ url: req.url!, status: 404 });
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}

