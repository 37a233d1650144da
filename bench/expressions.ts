/*
 * Expressions benchmark: what evaluating `${{ }}` costs, next to the same work written as
 * plain JavaScript in the same process (the floor), and optionally next to another
 * implementation of the evaluator (BENCH_BASELINE: a module exporting `evaluateTemplate`, such
 * as an earlier version of plugins/stagecoach-backend/src/expressions/expressions.ts taken
 * from git). Three workloads, each BENCH_ITERATIONS evaluations per round, BENCH_ROUNDS rounds
 * after a warm-up round, the implementations interleaved round by round so that a busy
 * machine slows them alike:
 *  - config: a promotion step's configuration (Kargo's quickstart git-clone and
 *    kustomize-set-image steps): a dozen strings, half of them with expressions;
 *  - condition: a step's `if`, comparisons and boolean operators over ctx, vars and a status
 *    function;
 *  - criteria: a freight creation criteria over two artifact functions.
 * The expressions use only what every version understands (Stagecoach's lower-case field
 * names, no expr-lang built-ins), so a baseline evaluates the same text.
 * Progress goes to stderr; the last line of stdout is one JSON object.
 *
 *   yarn bench:expressions
 *   git show <ref>:plugins/stagecoach-backend/src/expressions/expressions.ts > bench/.baseline/expressions.ts
 *   BENCH_BASELINE=$PWD/bench/.baseline/expressions.ts yarn bench:expressions
 */
import path from 'node:path';
import { evaluateTemplate, ExpressionEnv } from '../plugins/stagecoach-backend/src/expressions/expressions';
import { intFromEnv, log, reportFailure, round2 } from './common';

const ITERATIONS = intFromEnv('BENCH_ITERATIONS', 20_000);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 7);

type Evaluate = (value: unknown, env: ExpressionEnv) => unknown;

const IMAGE = 'ghcr.io/acme/api';
const APP = 'https://git.example.com/acme/app.git';
const artifacts = {
  image: { repoURL: IMAGE, tag: '1.27.1', digest: 'sha256:0f3c' },
  commit: { repoURL: APP, id: '3f2a9c1', tag: 'v1.27.1', message: 'release 1.27.1' },
};

function env(stage: string): ExpressionEnv {
  return {
    values: {
      ctx: { project: 'kargo-demo', stage, promotion: `${stage}.01j.abc1234`, targetFreight: { name: 'f00d', alias: 'brave-fox' } },
      vars: { gitopsRepo: 'https://git.example.com/acme/gitops.git', imageRepo: IMAGE, replicas: 3 },
      outputs: { update: { commitMessage: 'Updated ghcr.io/acme/api to 1.27.1' } },
    },
    functions: {
      imageFrom: repo => (repo === IMAGE ? artifacts.image : undefined),
      commitFrom: repo => (repo === APP ? artifacts.commit : undefined),
      success: () => true,
    },
  };
}

const CONFIG = {
  repoURL: '${{ vars.gitopsRepo }}',
  checkout: [
    { branch: 'main', path: './src' },
    { branch: 'stage/${{ ctx.stage }}', create: true, path: './out' },
  ],
  images: [{ image: '${{ vars.imageRepo }}', tag: '${{ imageFrom(vars.imageRepo).tag }}' }],
  message: '${{ outputs.update.commitMessage }} for ${{ ctx.project }}/${{ ctx.stage }}',
  replicas: '${{ vars.replicas }}',
  path: './src/stages/${{ ctx.stage }}',
};
const CONDITION = '${{ ctx.stage == "prod" && vars.replicas > 2 || !success() }}';
const CRITERIA = `\${{ commitFrom("${APP}").tag == "v" + imageFrom("${IMAGE}").tag && commitFrom("${APP}").message != "" }}`;

/** The same three workloads as plain JavaScript: what the evaluator's work costs without it. */
const native: Record<string, (e: ExpressionEnv) => unknown> = {
  config: e => {
    const v = e.values as any;
    const image = e.functions.imageFrom(v.vars.imageRepo) as typeof artifacts.image;
    return {
      repoURL: v.vars.gitopsRepo,
      checkout: [
        { branch: 'main', path: './src' },
        { branch: `stage/${v.ctx.stage}`, create: true, path: './out' },
      ],
      images: [{ image: v.vars.imageRepo, tag: image.tag }],
      message: `${v.outputs.update.commitMessage} for ${v.ctx.project}/${v.ctx.stage}`,
      replicas: v.vars.replicas,
      path: `./src/stages/${v.ctx.stage}`,
    };
  },
  condition: e => {
    const v = e.values as any;
    return (v.ctx.stage === 'prod' && v.vars.replicas > 2) || !e.functions.success();
  },
  criteria: e => {
    const commit = e.functions.commitFrom(APP) as typeof artifacts.commit;
    const image = e.functions.imageFrom(IMAGE) as typeof artifacts.image;
    return commit.tag === `v${image.tag}` && commit.message !== '';
  },
};

const workloads: Record<string, unknown> = { config: CONFIG, condition: CONDITION, criteria: CRITERIA };

function run(f: (e: ExpressionEnv) => unknown): number {
  const envs = [env('test'), env('uat'), env('prod')];
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) f(envs[i % 3]);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const implementations: Record<string, Evaluate> = { current: evaluateTemplate };
  if (process.env.BENCH_BASELINE) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    implementations.baseline = require(path.resolve(process.env.BENCH_BASELINE)).evaluateTemplate;
  }
  const results: Record<string, unknown> = {};
  for (const [name, workload] of Object.entries(workloads)) {
    const candidates: Record<string, (e: ExpressionEnv) => unknown> = { native: native[name] };
    for (const [impl, evaluate] of Object.entries(implementations)) {
      candidates[impl] = e => evaluate(workload, e);
      // every implementation must agree with the native code before it is timed
      const got = JSON.stringify(candidates[impl](env('prod')));
      const want = JSON.stringify(native[name](env('prod')));
      if (got !== want) throw new Error(`${impl} ${name}: ${got} is not ${want}`);
    }
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map(c => [c, []]));
    for (let round = 0; round <= ROUNDS; round++) {
      for (const [c, f] of Object.entries(candidates)) {
        const ms = run(f);
        if (round > 0) times[c].push(ms); // round 0 warms up
      }
      log(`${name}: round ${round} of ${ROUNDS}`);
    }
    const ms = Object.fromEntries(Object.entries(times).map(([c, t]) => [c, median(t)]));
    const perEvaluationUs = Object.fromEntries(Object.entries(ms).map(([c, m]) => [c, round2((m * 1000) / ITERATIONS)]));
    results[name] = {
      medianRoundMs: Object.fromEntries(Object.entries(ms).map(([c, m]) => [c, round2(m)])),
      perEvaluationUs,
      currentOverNative: round2(ms.current / ms.native),
      ...(ms.baseline ? { currentOverBaseline: round2(ms.current / ms.baseline) } : {}),
    };
    log(`${name}: ${JSON.stringify(results[name])}`);
  }
  process.stdout.write(`${JSON.stringify({ iterations: ITERATIONS, rounds: ROUNDS, results })}\n`);
}

main().catch(reportFailure);
