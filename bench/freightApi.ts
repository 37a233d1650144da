/*
 * Freight API benchmark: what the freight endpoints answer, and how fast, for a project of
 * BENCH_FREIGHT freight and BENCH_STAGES stages, next to a small project (BENCH_SMALL_FREIGHT
 * freight, 3 stages) in the same engine and the same run:
 *  - GET /projects/{p}/freight (first page, a page from a cursor deep in the list, a search),
 *  - GET /projects/{p}/stages/{s}/freight (first page, available only),
 *  - the entity pipeline the tab polls (EntityPipelineService, in process: its route needs a
 *    catalog).
 * The HTTP requests go to the plugin's real router (createRouter, with the OpenAPI
 * validation) on loopback; each is timed from sending to the last byte, BENCH_SAMPLES times,
 * the two projects taking turns. Freight is written to the store directly; each stage of the
 * big project holds an older freight through a real promotion (control-flow stages).
 * Progress goes to stderr; the last line of stdout is one JSON object. See bench/README.md.
 *
 *   yarn bench:freight
 *   BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432 yarn bench:freight
 */
import { mockErrorHandler, mockServices } from '@backstage/backend-test-utils';
import express from 'express';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { StagecoachEngine } from '../plugins/stagecoach-backend/src/app';
import {
  createRouter,
  RouterOptions,
} from '../plugins/stagecoach-backend/src/service/router';
import { silentLogger } from '../plugins/stagecoach-backend/src/util/types';
import {
  intFromEnv,
  log,
  openDatabase,
  POSTGRES_URL,
  reportFailure,
  round2,
  runCleanup,
} from './common';

const FREIGHT = intFromEnv('BENCH_FREIGHT', 10_000);
const STAGES = intFromEnv('BENCH_STAGES', 100);
const SMALL_FREIGHT = intFromEnv('BENCH_SMALL_FREIGHT', 30);
const SAMPLES = intFromEnv('BENCH_SAMPLES', 40);
const REPO = 'https://git.example.com/acme/app.git';
const IMAGE = 'ghcr.io/acme/app';

/** A warehouse and `stages` control-flow stages (no steps): dev-0 direct, each next one after the previous. */
function manifests(project: string, stages: number): string {
  const docs = [
    `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: ${project}}
spec:
  subscriptions:
    - image: {repoURL: ${IMAGE}, imageSelectionStrategy: SemVer}
    - git: {repoURL: ${REPO}, commitSelectionStrategy: SemVer}`,
  ];
  for (let i = 0; i < stages; i++) {
    const sources = i === 0 ? '{direct: true}' : `{stages: [stage-${i - 1}]}`;
    docs.push(`apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: stage-${i}, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: ${sources}`);
  }
  return docs.join('\n---\n');
}

/** `n` freight of warehouse app, a minute apart, written in batches (as discovery would store them). */
async function writeFreight(knex: Knex, project: string, n: number) {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const rows = Array.from({ length: n }, (_, i) => {
    const tag = `1.${Math.floor(i / 100)}.${i % 100}`;
    const commit = createHash('sha1').update(`${project}-${i}`).digest('hex');
    const artifacts = {
      commits: [
        {
          repoURL: REPO,
          id: commit,
          tag: `v${tag}`,
          message: `release ${tag}`,
        },
      ],
      images: [
        {
          repoURL: IMAGE,
          tag,
          digest: `sha256:${createHash('sha256').update(commit).digest('hex')}`,
        },
      ],
      charts: [],
    };
    return {
      project,
      id: createHash('sha1').update(`freight-${project}-${i}`).digest('hex'),
      alias: `bench-${project}-${i}`,
      warehouse: 'app',
      artifacts_json: JSON.stringify(artifacts),
      created_at: new Date(start + i * 60_000).toISOString(),
    };
  });
  for (let i = 0; i < rows.length; i += 200)
    await knex('stagecoach_freight').insert(rows.slice(i, i + 200));
  return rows;
}

async function waitFinal(
  engine: StagecoachEngine,
  project: string,
  id: string,
) {
  for (;;) {
    const p = await engine.promotions.get(project, id);
    if (!['Pending', 'Running'].includes(p.phase)) return p;
    await new Promise(r => setTimeout(r, 10));
  }
}

/** The 95th percentile (nearest rank). */
function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)
  ];
}

interface Figures {
  p95Ms: number;
  medianMs: number;
  bytes: number;
  items: number;
}

async function main() {
  const cleanup: Array<() => unknown> = [];
  try {
    const tmp = fs.mkdtempSync(
      path.join(os.tmpdir(), 'stagecoach-bench-freight-'),
    );
    cleanup.unshift(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const knex = await openDatabase(tmp, cleanup);
    const engine = await StagecoachEngine.create({
      knex,
      logger: silentLogger,
      workDir: path.join(tmp, 'work'),
      worker: { pollIntervalMs: 10, concurrency: 8 },
    });
    cleanup.unshift(() => engine.close());
    engine.start();

    log(
      `setup: project big (${FREIGHT} freight, ${STAGES} stages), project small (${SMALL_FREIGHT} freight, 3 stages)`,
    );
    await engine.projects.applyManifests('big', manifests('big', STAGES));
    await engine.projects.applyManifests('small', manifests('small', 3));
    const big = await writeFreight(knex, 'big', FREIGHT);
    const small = await writeFreight(knex, 'small', SMALL_FREIGHT);
    // every stage holds freight older than the newest 100: a chain of promotions of one old freight
    for (const [project, rows, stages] of [
      ['big', big, STAGES],
      ['small', small, 3],
    ] as const) {
      const held = rows[Math.floor(rows.length / 3)];
      for (let i = 0; i < stages; i++) {
        const p = await waitFinal(
          engine,
          project,
          (
            await engine.promotions.promote(project, `stage-${i}`, held.id)
          ).id,
        );
        if (p.phase !== 'Succeeded')
          throw new Error(
            `promotion to ${project}/stage-${i}: ${p.phase} ${p.message ?? ''}`,
          );
      }
    }
    log('setup done');

    const app = express()
      .use(
        await createRouter({
          engine,
          httpAuth: mockServices.httpAuth(),
          // every read allowed: the permission checks are not what is measured
          access: {
            checkProject: async () => undefined,
            checkStage: async () => undefined,
          } as unknown as RouterOptions['access'],
          // only reads: nothing is audited
          auditor: {} as RouterOptions['auditor'],
          catalog: {} as RouterOptions['catalog'],
          logger: mockServices.rootLogger({ level: 'none' }),
        }),
      )
      .use(mockErrorHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise(r => server.once('listening', r));
    cleanup.unshift(() => new Promise(r => server.close(r)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // a cursor deep in each project's list: the page after the middle
    const deepCursor: Record<string, string> = {};
    for (const [project, rows] of [
      ['big', big],
      ['small', small],
    ] as const) {
      const middle = rows[Math.floor(rows.length / 2)];
      deepCursor[project] = Buffer.from(
        JSON.stringify(['f1', middle.created_at, middle.id]),
      ).toString('base64url');
    }
    const last = (project: string) =>
      `stage-${project === 'big' ? STAGES - 1 : 2}`;
    const requests: Record<string, (project: string) => string> = {
      freightFirstPage: p => `/projects/${p}/freight`,
      freightDeepPage: p => `/projects/${p}/freight?cursor=${deepCursor[p]}`,
      freightSearch: p => `/projects/${p}/freight?q=1.0.2`,
      freightInStage: p => `/projects/${p}/freight?inStage=${last(p)}`,
      stageFreightFirstPage: p => `/projects/${p}/stages/${last(p)}/freight`,
      stageFreightAvailable: p =>
        `/projects/${p}/stages/${last(p)}/freight?available=true`,
    };
    const samples: Record<
      string,
      Record<string, { ms: number[]; bytes: number; items: number }>
    > = {};
    const time = async (
      name: string,
      project: string,
      run: () => Promise<{ bytes: number; items: number }>,
    ) => {
      const started = performance.now();
      const { bytes, items } = await run();
      const ms = performance.now() - started;
      const s = ((samples[name] ??= {})[project] ??= { ms: [], bytes, items });
      s.ms.push(ms);
    };
    const get = async (url: string) => {
      const res = await fetch(`${base}${url}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text}`);
      return {
        bytes: Buffer.byteLength(text),
        items: (JSON.parse(text).items ?? []).length,
      };
    };
    log(`measuring: ${SAMPLES} samples of each, the projects taking turns`);
    for (let i = 0; i <= SAMPLES; i++) {
      for (const project of i % 2 ? ['big', 'small'] : ['small', 'big']) {
        for (const [name, url] of Object.entries(requests)) {
          await time(name, project, () => get(url(project)));
        }
        await time('entityPipeline', project, async () => {
          const view = await engine.entities.get(project);
          return {
            bytes: Buffer.byteLength(JSON.stringify(view)),
            items: view.freight.length,
          };
        });
      }
      // the first round warms up (connections, statement caches): not counted
      if (i === 0)
        for (const byProject of Object.values(samples))
          for (const s of Object.values(byProject)) s.ms = [];
    }

    const results: Record<
      string,
      { big: Figures; small: Figures; p95Ratio: number; bytesRatio: number }
    > = {};
    for (const [name, byProject] of Object.entries(samples)) {
      const fig = (s: {
        ms: number[];
        bytes: number;
        items: number;
      }): Figures => ({
        p95Ms: round2(p95(s.ms)),
        medianMs: round2(
          [...s.ms].sort((a, b) => a - b)[Math.floor(s.ms.length / 2)],
        ),
        bytes: s.bytes,
        items: s.items,
      });
      const b = fig(byProject.big);
      const sm = fig(byProject.small);
      results[name] = {
        big: b,
        small: sm,
        p95Ratio: round2(b.p95Ms / sm.p95Ms),
        bytesRatio: round2(b.bytes / sm.bytes),
      };
      log(
        `${name}: big p95 ${b.p95Ms} ms, ${b.bytes} B, ${b.items} items; small p95 ${sm.p95Ms} ms, ${sm.bytes} B; ratio ${results[name].p95Ratio}`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({
        database: POSTGRES_URL ? 'postgresql' : 'sqlite',
        freight: FREIGHT,
        stages: STAGES,
        smallFreight: SMALL_FREIGHT,
        samples: SAMPLES,
        apiP95Ms: Math.max(
          ...Object.entries(results)
            .filter(([n]) => n !== 'entityPipeline')
            .map(([, r]) => r.big.p95Ms),
        ),
        results,
      })}\n`,
    );
  } catch (e) {
    reportFailure(e);
  } finally {
    await runCleanup(cleanup);
  }
}

main();
