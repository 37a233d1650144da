import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EgressPolicy } from '../integrations/http/egress';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: ReceivedRequest, res: http.ServerResponse) => void;

export interface LoopbackServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

function recordingListener(handler: Handler, requests: ReceivedRequest[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const received = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(received);
      handler(received, res);
    });
  };
}

async function listen(server: http.Server | net.Server, scheme: string): Promise<string> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

function closer(server: http.Server): () => Promise<void> {
  return async () => {
    // a handler that never answers leaves its connection open; end it so close() returns
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  };
}

/** An HTTP server on 127.0.0.1 (port chosen by the OS) that records every request it gets. */
export async function loopbackServer(handler: Handler): Promise<LoopbackServer> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer(recordingListener(handler, requests));
  return { url: await listen(server, 'http'), requests, close: closer(server) };
}

/** The same over TLS, with a self-signed certificate for 127.0.0.1 made by openssl. */
export async function loopbackTlsServer(handler: Handler): Promise<LoopbackServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-tls-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1',
      '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const requests: ReceivedRequest[] = [];
    const server = https.createServer(
      { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
      recordingListener(handler, requests),
    );
    return { url: await listen(server, 'https'), requests, close: closer(server) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A forward proxy that tunnels CONNECT requests, as corporate proxies do; records each target. */
export async function loopbackConnectProxy(): Promise<{ url: string; targets: string[]; close(): Promise<void> }> {
  const targets: string[] = [];
  const tunnels = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    targets.push(req.url!);
    const [host, port] = req.url!.split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', end);
    client.on('error', end);
    tunnels.add(client).add(upstream);
  });
  const closeServer = closer(server);
  const close = async () => {
    // tunnelled sockets are no longer the server's: end them here
    for (const s of tunnels) s.destroy();
    await closeServer();
  };
  return { url: await listen(server, 'http'), targets, close };
}

/**
 * The egress policy for tests whose requests go to these loopback servers: production's
 * default with loopback allowed, as the demo config has it.
 */
export const LOOPBACK_ALLOWED = new EgressPolicy({ allowLoopback: true });
