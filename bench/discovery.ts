/*
 * Discovery benchmark: a real docker-registry on loopback with BENCH_REPOSITORIES
 * repositories of BENCH_TAGS semver tags each, an engine on SQLite (a temp file) with one
 * warehouse per repository (one SemVer image subscription, discoveryLimit 20), and:
 *  - one full discovery cycle: wall time, registry requests, rows written;
 *  - an idle cycle (nothing new): must write zero rows;
 *  - the floor: the same tag-list requests from a bare concurrent HTTP client;
 *  - push-to-freight latency through the distribution webhook receiver.
 * Progress goes to stderr; the last line of stdout is one JSON object. See bench/README.md.
 *
 *   yarn bench:discovery
 *   BENCH_REPOSITORIES=50 BENCH_TAGS=20 yarn bench:discovery
 */
import { EgressPolicy } from '../plugins/stagecoach-backend/src/integrations/http/egress';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { Knex } from 'knex';
import { StagecoachEngine } from '../plugins/stagecoach-backend/src/app';
import type { RegistryRequestEvent } from '../plugins/stagecoach-backend/src/integrations/registry/RegistryClient';
import {
  startTestRegistry,
  TestRegistry,
} from '../plugins/stagecoach-backend/src/__testUtils__/registry';
import {
  createWebhookRouter,
  matchesSubscription,
} from '../plugins/stagecoach-backend/src/service/webhooks';
import type { Logger } from '../plugins/stagecoach-backend/src/util/types';
import {
  intFromEnv,
  log,
  openDatabase,
  POSTGRES_URL,
  reportFailure,
  runCleanup,
  seconds,
} from './common';

const REPOSITORIES = intFromEnv('BENCH_REPOSITORIES', 1000);
const TAGS = intFromEnv('BENCH_TAGS', 100);
const WAREHOUSES = intFromEnv('BENCH_WAREHOUSES', REPOSITORIES);
const DISCOVERY_LIMIT = intFromEnv('BENCH_DISCOVERY_LIMIT', 20);
/** Registry requests in flight per host: the engine's default, used by the floor too. */
const PER_HOST = intFromEnv('BENCH_PER_HOST', 8);
/** Warehouses discovered at once by runDue. */
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 4 * PER_HOST);
/**
 * How the tags beyond each repository's first are made: `storage` writes them into the
 * registry's storage (seconds for 100,000 tags), `api` PUTs each manifest over HTTP (minutes).
 */
const SETUP = process.env.BENCH_SETUP ?? 'storage';
if (SETUP !== 'storage' && SETUP !== 'api')
  throw new Error(`BENCH_SETUP must be storage or api, not "${SETUP}"`);
/** Repositories pushed at once during setup (each pushes 8 tags at a time). */
const SETUP_CONCURRENCY = intFromEnv('BENCH_SETUP_CONCURRENCY', 4);
const WEBHOOK_SAMPLES = Math.min(
  intFromEnv('BENCH_WEBHOOK_SAMPLES', 5),
  REPOSITORIES,
);
/**
 * The engine's database: unset for a SQLite file in a temp folder, or a PostgreSQL server's
 * URL (e.g. postgresql://postgres@127.0.0.1:5432), on which a scratch database is made and dropped.
 */
const PROJECT = 'bench';
const INTERVAL_MS = 5 * 60_000;

const pad = (i: number) => String(i).padStart(4, '0');
const repoName = (i: number) => `bench/r${pad(i)}`;
const warehouseName = (i: number) => `w${pad(i)}`;
/** 1.0.0, 1.0.1, … 1.0.9, 1.1.0, …: BENCH_TAGS distinct semver tags. */
const tagName = (i: number) => `1.${Math.floor(i / 10)}.${i % 10}`;

/** Runs fn over items, `concurrency` at a time. */
async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift())
        await fn(item);
    }),
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function pushRepositories(registry: TestRegistry): Promise<number> {
  const started = Date.now();
  const tags = Array.from({ length: TAGS }, (_, i) => tagName(i));
  let done = 0;
  await pool(
    Array.from({ length: REPOSITORIES }, (_, i) => i),
    SETUP_CONCURRENCY,
    async i => {
      // one image per repository (its own content), every other tag a PUT of the same manifest
      const image = await registry.pushImage(repoName(i), tags[0], {
        salt: `repository ${i}`,
      });
      if (SETUP === 'api')
        await registry.tagMany(repoName(i), image.digest, tags.slice(1));
      else await registry.writeTags(repoName(i), image.digest, tags.slice(1));
      done++;
      if (done % Math.max(1, Math.floor(REPOSITORIES / 10)) === 0)
        log(
          `setup: ${done}/${REPOSITORIES} repositories pushed (${seconds(
            Date.now() - started,
          )}s)`,
        );
    },
  );
  return Date.now() - started;
}

function manifests(registryHost: string): string {
  return Array.from(
    { length: WAREHOUSES },
    (_, i) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: ${warehouseName(i)}, namespace: ${PROJECT}}
spec:
  interval: 5m
  subscriptions:
    - image: {repoURL: ${registryHost}/${repoName(
      i % REPOSITORIES,
    )}, imageSelectionStrategy: SemVer, discoveryLimit: ${DISCOVERY_LIMIT}}
`,
  ).join('---\n');
}

/**
 * The tag-list requests of a cycle from a bare client: fetch, PER_HOST at a time. With
 * `withHead`, each list is followed by a HEAD of the highest tag, as discovery must do to
 * learn the digest freight is made of: the floor of any discovery that reads that digest.
 */
async function floor(
  registry: TestRegistry,
  withHead = false,
): Promise<number> {
  const started = performance.now();
  await pool(
    Array.from({ length: WAREHOUSES }, (_, i) => i % REPOSITORIES),
    PER_HOST,
    async i => {
      const res = await fetch(
        `${registry.url}/v2/${repoName(i)}/tags/list?n=1000`,
      );
      const body = (await res.json()) as { tags?: string[] };
      if (!res.ok || (body.tags?.length ?? 0) < TAGS)
        throw new Error(`floor: ${repoName(i)} answered ${res.status}`);
      if (!withHead) return;
      const head = await fetch(
        `${registry.url}/v2/${repoName(i)}/manifests/${tagName(TAGS - 1)}`,
        { method: 'HEAD', headers: { accept: MANIFEST_TYPES } },
      );
      await head.arrayBuffer();
      if (!head.headers.get('docker-content-digest'))
        throw new Error(
          `floor: HEAD of ${repoName(i)} answered ${head.status}`,
        );
    },
  );
  return performance.now() - started;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/**
 * The engine's database, and a counter of the rows written to it so far, kept by the database
 * itself for SQLite (total_changes() of its one connection), from each write's answer for
 * PostgreSQL.
 */
/** The run's database, and how many rows it has had written (SQLite counts them itself). */
async function openCountingDatabase(
  tmp: string,
  cleanup: Array<() => unknown>,
): Promise<{ knex: Knex; rowsWritten: () => Promise<number> }> {
  const knex = await openDatabase(tmp, cleanup);
  if (!POSTGRES_URL) {
    return {
      knex,
      rowsWritten: async () =>
        Number(
          (
            (await knex.raw('select total_changes() as n')) as Array<{
              n: number;
            }>
          )[0].n,
        ),
    };
  }
  // PostgreSQL's own counters reach pg_stat views with a delay: count what each write answered
  let rows = 0;
  knex.on('query-response', (response: unknown, q: { method?: string }) => {
    if (q.method === 'insert')
      rows += Array.isArray(response) ? response.length : 1;
    else if (q.method === 'update' || q.method === 'del')
      rows += typeof response === 'number' ? response : 0;
  });
  return { knex, rowsWritten: async () => rows };
}

interface Counters {
  requests: number;
  byKind: Record<string, number>;
  writeStatements: number;
}

async function main() {
  const benchStarted = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-bench-'));
  const counters: Counters = { requests: 0, byKind: {}, writeStatements: 0 };
  const resetCounters = () => {
    counters.requests = 0;
    counters.byKind = {};
    counters.writeStatements = 0;
  };
  const cleanup: Array<() => Promise<unknown> | unknown> = [
    () => fs.rmSync(tmp, { recursive: true, force: true }),
  ];
  try {
    log(
      `${REPOSITORIES} repositories × ${TAGS} tags, ${WAREHOUSES} warehouses, ` +
        `discovery concurrency ${CONCURRENCY}, ${PER_HOST} requests per host`,
    );
    const registry = await startTestRegistry();
    cleanup.unshift(() => registry.close());
    log(`registry on ${registry.url}; pushing`);
    const setupMs = await pushRepositories(registry);
    log(
      `setup (${SETUP}): ${REPOSITORIES * TAGS} tags in ${seconds(setupMs)}s`,
    );
    // the setup's files are still being written back to disk: let that finish first, or its
    // I/O lands in whichever measurement runs at the time
    const syncStarted = Date.now();
    execFileSync('sync');
    log(
      `setup written to disk (sync) in ${seconds(Date.now() - syncStarted)}s`,
    );

    const { knex, rowsWritten } = await openCountingDatabase(tmp, cleanup);
    knex.on('query', (q: { method?: string }) => {
      if (q.method === 'insert' || q.method === 'update' || q.method === 'del')
        counters.writeStatements++;
    });
    const totalChanges = rowsWritten;
    let clockOffsetMs = 0;
    const logger: Logger = {
      debug() {},
      info() {},
      warn: m => log(`engine warn: ${m}`),
      error: m => log(`engine error: ${m}`),
    };
    const engine = await StagecoachEngine.create({
      knex,
      logger,
      clock: { now: () => new Date(Date.now() + clockOffsetMs) },
      workDir: path.join(tmp, 'work'),
      // the registry and Git server of the benchmark are on loopback
      egress: new EgressPolicy({ allowLoopback: true }),
      registry: {
        maxConcurrentRequestsPerHost: PER_HOST,
        onRequest: (e: RegistryRequestEvent) => {
          counters.requests++;
          const key = `${e.method} ${e.kind}`;
          counters.byKind[key] = (counters.byKind[key] ?? 0) + 1;
        },
      },
    });
    cleanup.unshift(() => engine.close());

    const applyStarted = Date.now();
    await engine.projects.applyManifests(PROJECT, manifests(registry.host));
    log(
      `applied ${WAREHOUSES} warehouses in ${seconds(
        Date.now() - applyStarted,
      )}s`,
    );

    // the floor, before the cycle (the registry's files were just written, so cached either way)
    const floorBeforeMs = await floor(registry);
    log(
      `floor (bare client, ${WAREHOUSES} tag lists): ${seconds(
        floorBeforeMs,
      )}s`,
    );

    // one full cycle: every warehouse is due and every source is new
    resetCounters();
    let changes = await totalChanges();
    let started = performance.now();
    const results = await engine.workers.discovery.runDue({
      concurrency: CONCURRENCY,
      limit: WAREHOUSES,
    });
    const cycleMs = performance.now() - started;
    const cycleRows = (await totalChanges()) - changes;
    const cycle = { ...counters, byKind: { ...counters.byKind } };
    const errors = results.filter(r => r.error);
    const created = results.filter(r => r.createdFreightId).length;
    log(
      `cycle: ${results.length} warehouses in ${seconds(cycleMs)}s, ${
        cycle.requests
      } requests, ${cycleRows} rows written, ${created} freight created, ${
        errors.length
      } errors`,
    );
    if (results.length !== WAREHOUSES || errors.length > 0) {
      throw new Error(
        `the cycle discovered ${results.length}/${WAREHOUSES} warehouses; first error: ${errors[0]?.error}`,
      );
    }

    const floorAfterMs = await floor(registry);
    log(`floor again: ${seconds(floorAfterMs)}s`);
    const floorWithHeadMs = await floor(registry, true);
    log(`floor with a HEAD of the highest tag: ${seconds(floorWithHeadMs)}s`);

    // an idle cycle: the interval has passed, nothing was pushed
    clockOffsetMs += INTERVAL_MS + 1000;
    resetCounters();
    changes = await totalChanges();
    started = performance.now();
    const idle = await engine.workers.discovery.runDue({
      concurrency: CONCURRENCY,
      limit: WAREHOUSES,
    });
    const idleMs = performance.now() - started;
    const idleRows = (await totalChanges()) - changes;
    const idleCounters = { ...counters, byKind: { ...counters.byKind } };
    log(
      `idle cycle: ${idle.length} warehouses in ${seconds(idleMs)}s, ${
        idleCounters.requests
      } requests, ${idleRows} rows written, ${
        idle.filter(r => r.unchanged).length
      } unchanged`,
    );
    if (idle.length !== WAREHOUSES)
      throw new Error(
        `the idle cycle looked at ${idle.length}/${WAREHOUSES} warehouses`,
      );

    // push-to-freight through the distribution webhook receiver
    const secret = 'bench-webhook-secret';
    const app = express();
    app.use(
      '/webhooks',
      createWebhookRouter({
        receivers: [{ name: 'registry', type: 'distribution', secret }],
        logger: {
          debug() {},
          info() {},
          warn: (m: string) => log(`webhook warn: ${m}`),
          error: (m: string) => log(`webhook error: ${m}`),
          child() {
            return this;
          },
        } as unknown as Parameters<typeof createWebhookRouter>[0]['logger'],
        onEvent: async event => ({
          warehouses: await engine.warehouses.refreshMatching(s =>
            matchesSubscription(event, s),
          ),
        }),
      }),
    );
    const server = await new Promise<http.Server>(resolve => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    cleanup.unshift(() => new Promise(resolve => server.close(resolve)));
    const webhookURL = `http://127.0.0.1:${
      (server.address() as { port: number }).port
    }/webhooks/registry`;

    const latencies: number[] = [];
    const pushLatencies: number[] = [];
    for (let sample = 0; sample < WEBHOOK_SAMPLES; sample++) {
      const repo = Math.floor((sample * REPOSITORIES) / WEBHOOK_SAMPLES);
      const warehouse = warehouseName(repo);
      const tag = `2.0.${sample}`;
      const pushStarted = performance.now();
      const pushed = await registry.pushImage(repoName(repo), tag, {
        salt: `webhook ${sample}`,
      });
      const posted = performance.now();
      const res = await fetch(webhookURL, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
        },
        body: JSON.stringify({
          events: [
            {
              id: `bench-${sample}`,
              timestamp: new Date().toISOString(),
              action: 'push',
              target: {
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                digest: pushed.digest,
                repository: repoName(repo),
                url: `${registry.url}/v2/${repoName(repo)}/manifests/${
                  pushed.digest
                }`,
                tag,
              },
              request: { host: registry.host, method: 'PUT' },
            },
          ],
        }),
      });
      const answer = (await res.json()) as { warehouses?: string[] };
      if (
        res.status !== 202 ||
        !answer.warehouses?.includes(`${PROJECT}/${warehouse}`)
      )
        throw new Error(
          `the webhook answered ${res.status}: ${JSON.stringify(answer)}`,
        );
      for (;;) {
        const [newest] = await engine.freight.list(PROJECT, {
          origin: warehouse,
          limit: 1,
        });
        if (
          newest?.images[0]?.tag === tag &&
          newest.images[0].digest === pushed.digest
        )
          break;
        if (performance.now() - posted > 30_000)
          throw new Error(
            `no freight for ${repoName(repo)}:${tag} 30s after the webhook`,
          );
        await new Promise(r => setTimeout(r, 2));
      }
      const now = performance.now();
      latencies.push(now - posted);
      pushLatencies.push(now - pushStarted);
      log(
        `webhook → freight for ${repoName(repo)}:${tag}: ${Math.round(
          now - posted,
        )}ms (push included: ${Math.round(now - pushStarted)}ms)`,
      );
    }

    const floorMs = Math.min(floorBeforeMs, floorAfterMs);
    const result = {
      warehouses: WAREHOUSES,
      repositories: REPOSITORIES,
      tagsPerRepository: TAGS,
      discoveryLimit: DISCOVERY_LIMIT,
      concurrency: CONCURRENCY,
      requestsPerHost: PER_HOST,
      setup: SETUP,
      setupSeconds: seconds(setupMs),
      cycleSeconds: seconds(cycleMs),
      floorSeconds: seconds(floorMs),
      floorRunsSeconds: [seconds(floorBeforeMs), seconds(floorAfterMs)],
      ratio: Math.round((cycleMs / floorMs) * 100) / 100,
      floorWithHeadSeconds: seconds(floorWithHeadMs),
      ratioToFloorWithHead: Math.round((cycleMs / floorWithHeadMs) * 100) / 100,
      idleRatio: Math.round((idleMs / floorMs) * 100) / 100,
      database: POSTGRES_URL ? 'postgresql' : 'sqlite',
      cycleRequests: cycle.requests,
      cycleRequestsByKind: cycle.byKind,
      floorRequests: WAREHOUSES,
      cycleRowsWritten: cycleRows,
      cycleWriteStatements: cycle.writeStatements,
      freightCreated: created,
      idleCycleSeconds: seconds(idleMs),
      idleCycleRequests: idleCounters.requests,
      idleCycleRowsWritten: idleRows,
      idleCycleWriteStatements: idleCounters.writeStatements,
      webhookToFreightMs: Math.round(percentile(latencies, 0.5)),
      webhookToFreightMaxMs: Math.round(Math.max(...latencies)),
      webhookSamples: latencies.length,
      pushToFreightMs: Math.round(percentile(pushLatencies, 0.5)),
      totalSeconds: seconds(Date.now() - benchStarted),
      node: process.version,
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await runCleanup(cleanup);
  }
}

main().catch(reportFailure);
