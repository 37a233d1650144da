import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { StepStatus } from '@stagecoach/plugin-stagecoach-common';
import { DEFAULT_GIT_IDENTITY, GitIdentity } from '../integrations/git/GitCli';
import { DEFAULT_EGRESS_POLICY, EgressPolicy } from '../integrations/http/egress';
import { noScmCredentials, ScmCredentials } from '../integrations/scm/ScmCredentials';
import { describeIssue } from '../manifests/describeIssue';
import { formatPath } from '../manifests/problems';
import type { RunnableStep, Var } from '../manifests/schemas';
import type { FreightArtifacts } from '../store/freightIdentity';
import { FreightStore, StoredFreight } from '../store/FreightStore';
import { MetadataStore } from '../store/MetadataStore';
import { ClaimedPromotion, FinalPhase, PromotionStore, StepRecord, stepAlias } from '../store/PromotionStore';
import { parseDuration } from '../util/duration';
import { redactSecrets, redactValues } from '../util/secrets';
import type { DataFunctions } from '../expressions/dataFunctions';
import { Clock, Logger } from '../util/types';
import {
  evaluate,
  evaluateTemplate,
  ExpressionEnv,
  ExpressionError,
  ExprFunction,
  unwrapExpression,
} from '../expressions/expressions';
import { DEFAULT_MAX_OUTPUT_BYTES, outputsTooLarge } from './outputLimit';
import type { MetadataSnapshot } from '../store/MetadataStore';
import { promotionEnv } from './promotionEnv';
import { FreightAliasChange, freightAliasWriter } from './freightAliasWriter';
import { ArgoCdSettings, DEFAULT_ARGOCD_SETTINGS } from '../integrations/argocd/types';
import type { KubeClusters } from '../integrations/kubernetes/types';
import { RegistryClient } from '../integrations/registry';
import { unconfiguredClusters } from '../integrations/kubernetes/unconfigured';
import { builtinSteps } from './steps';
import { StepContext, StepDefinition, StepResult } from './steps/types';
import { attemptFolders, StepConfigError } from './workDir';

export interface PromotionRunnerOptions {
  promotions: PromotionStore;
  freight: FreightStore;
  metadata: MetadataStore;
  clock: Clock;
  logger: Logger;
  /** Parent folder of the per-promotion work directories (default: the OS temp folder). */
  workRoot?: string;
  /** Who commits; a function is asked at each run (the cluster scope's ClusterConfig may change it). */
  gitIdentity?: GitIdentity | (() => Promise<GitIdentity>);
  steps?: ReadonlyMap<string, StepDefinition>;
  credentials?: ScmCredentials;
  /** A project's credentials for Git and SCM APIs: its own Secrets, then `credentials` (default: `credentials`). */
  credentialsFor?: (project: string) => ScmCredentials;
  fetch?: typeof fetch;
  /** Where requests that manifests name may go (default: production's, loopback denied). */
  egress?: EgressPolicy;
  /** The most a step's outputs may take, as JSON, to be kept (default 1 MiB). */
  maxOutputBytes?: number;
  /**
   * In the transaction that ends a promotion Succeeded: what success means for the stage
   * (its freight is verified there, or a verification is queued).
   */
  onSucceeded(p: ClaimedPromotion, tx: Knex.Transaction): Promise<void>;
  /** When a promotion starts from its first step (the stage's verification in progress is superseded). */
  onStarted?(p: ClaimedPromotion): Promise<void>;
  /**
   * `commitFrom`, `imageFrom`, `chartFrom`, …: the subscription kinds' expression functions
   * over a freight's artifacts; `owner` names the freight in their errors.
   */
  artifactFunctions(
    artifacts: FreightArtifacts,
    owner: string,
    collection?: { warehouse: string; held?: ReadonlyMap<string, { artifacts: FreightArtifacts; owner: string }> },
  ): Record<string, ExprFunction>;
  /** Where people open the UI (Backstage's app.baseUrl), for `ctx.uiBaseUrl`. */
  uiBaseUrl?: string;
  /**
   * `configMap()`, `secret()`, `sharedConfigMap()`, `sharedSecret()` over the project's data,
   * made once per run; the Secret values they return are kept out of the step messages and
   * outputs the run records.
   */
  projectData?(project: string): Promise<DataFunctions>;
  /** For the oci-* steps: the engine's registry client (default: one without credentials). */
  registry?: RegistryClient;
  /** For the oci-* steps: a project's own registry credentials (its image and helm Secrets), before the client's. */
  registryCredentialsFor?: (project: string) => StepContext['registryCredentials'];
  /**
   * Told when set-freight-alias renamed freight, for the audit log (the step's own record
   * says it too). Must not throw.
   */
  onFreightAliasChanged?(change: FreightAliasChange): void;
  /** Kubernetes clusters and Argo CD settings, for the argocd-* steps (default: none configured). */
  kube?: KubeClusters;
  argocd?: ArgoCdSettings;
}

/** Why a running promotion is told to stop. */
export type StopReason = 'abort' | 'shutdown' | 'lost';

/** How the worker talks to a running promotion. */
export interface RunControl {
  signal: AbortSignal;
  /** Why the signal fired, once it has. */
  reason(): StopReason | undefined;
  /** Who asked to abort, for reason `abort`. */
  abortedBy(): string | undefined;
}

/**
 * What became of a run: a final phase; `waiting` (a step is still running, or errored and
 * will be tried again: the promotion was put aside, keeping its stage); `requeued` (given
 * back at shutdown, to start over on any worker); `lost` (another worker took it over).
 */
export type RunOutcome = FinalPhase | 'waiting' | 'requeued' | 'lost';

/** How long a step that says it is still running waits before it runs again, by default. */
const DEFAULT_RETRY_AFTER_MS = 30_000;
/** A step that errored and may be retried waits 10 s, doubling each time, at most 5 min. */
const errorBackoffMs = (errors: number) => Math.min(10_000 * 2 ** (errors - 1), 300_000);

/** The promotion cannot go on with this step, and trying again will not help. */
class StepFailure extends Error {}

const isTerminal = (e: unknown) =>
  e instanceof StepFailure || e instanceof StepConfigError || e instanceof ExpressionError;

const FAILED: ReadonlySet<StepStatus> = new Set(['Failed', 'Errored']);

/** What a failed or errored step makes the promotion's message. */
const problemText = (alias: string, status: StepStatus, message?: string | null) =>
  `step "${alias}" ${status === 'Errored' ? 'errored' : 'failed'}${message ? `: ${message}` : ''}`;

/** What the steps so far add up to, for `if` conditions and the promotion's phase. */
interface Progress {
  outputs: Record<string, Record<string, unknown>>;
  statuses: Map<string, string>;
  /** A step failed or errored (without continueOnError): what it said. */
  problem?: { phase: 'Failed' | 'Errored'; message: string };
}

/**
 * Runs a claimed promotion's steps in order, with Kargo's semantics: `if` (default
 * `success()`), `continueOnError`, `retry.errorThreshold` and `retry.timeout`, step and
 * task vars, outputs by alias. A step that reports it is still running puts the promotion
 * aside (it keeps its stage, frees its worker) and resumes there later, on any worker.
 * Work directories are per attempt, and removed when the promotion ends.
 */
export class PromotionRunner {
  private readonly steps: ReadonlyMap<string, StepDefinition>;

  constructor(private readonly options: PromotionRunnerOptions) {
    this.steps = options.steps ?? builtinSteps;
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }

  async run(p: ClaimedPromotion, control: RunControl): Promise<RunOutcome> {
    const { promotions, logger } = this.options;
    const attemptDir = path.join(this.workRoot(), `promotion-${p.id}-${p.attempts}`);
    if (p.fresh) {
      await fs.rm(attemptDir, { recursive: true, force: true });
      await this.options.onStarted?.(p);
    }
    const folders = attemptFolders(attemptDir);
    await fs.mkdir(folders.workDir, { recursive: true });
    await fs.mkdir(folders.cloneStore, { recursive: true });

    let outcome: RunOutcome | { phase: FinalPhase; message?: string };
    const secrets: SecretsRead = { values: () => [] };
    try {
      outcome = await this.runSteps(p, folders, control, secrets);
    } catch (e) {
      outcome = { phase: 'Errored', message: redactValues(redactSecrets(e instanceof Error ? e.message : String(e)), secrets.values()) };
    }
    if (typeof outcome === 'string') {
      if (outcome !== 'waiting') await fs.rm(attemptDir, { recursive: true, force: true });
      return outcome;
    }
    await fs.rm(attemptDir, { recursive: true, force: true });
    const { phase, message } = outcome;
    const ended = await promotions.finish(p, phase, message, this.now(), {
      claimedBy: p.claimedBy,
      onSuccess: tx => this.options.onSucceeded(p, tx),
    });
    if (!ended) return 'lost';
    logger.info(`promotion ${p.id} of ${p.project}/${p.stage}: ${phase}${message ? ` (${message})` : ''}`);
    return phase;
  }

  private workRoot(): string {
    return this.options.workRoot ?? path.join(os.tmpdir(), 'stagecoach-promotions');
  }

  /**
   * Removes the work directories that no attempt will come back to: their promotion ended
   * while no worker here held it (aborted while waiting, finished by another backend), or
   * was started over (the attempt was killed). A running or waiting attempt keeps its own.
   * Returns how many were removed.
   */
  async sweepWorkDirs(): Promise<number> {
    const entries = await fs.readdir(this.workRoot()).catch(() => [] as string[]);
    const dirs = entries
      .map(name => ({ name, m: /^promotion-(.+)-(\d+)$/.exec(name) }))
      .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
      .map(e => ({ name: e.name, id: e.m[1], attempt: Number(e.m[2]) }));
    if (dirs.length === 0) return 0;
    const states = await this.options.promotions.attemptStates([...new Set(dirs.map(d => d.id))]);
    let removed = 0;
    for (const d of dirs) {
      const s = states.get(d.id);
      const current = s && s.phase === 'Running' && s.attempts === d.attempt;
      if (current || s?.phase === 'Pending') continue;
      await fs.rm(path.join(this.workRoot(), d.name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  private async runSteps(
    p: ClaimedPromotion,
    folders: { workDir: string; cloneStore: string },
    control: RunControl,
    secrets: SecretsRead,
  ): Promise<RunOutcome | { phase: FinalPhase; message?: string }> {
    const { promotions } = this.options;
    // a fresh start has nothing recorded yet: its steps are all Pending
    const { gitIdentity: identity } = this.options;
    const [freight, recorded, snapshot, gitIdentity, data] = await Promise.all([
      this.options.freight.get(p.project, p.freightId),
      p.fresh ? [] : promotions.stepRecords(p.id),
      this.options.metadata.snapshot(p.project),
      typeof identity === 'function' ? identity() : (identity ?? DEFAULT_GIT_IDENTITY),
      this.options.projectData?.(p.project),
    ]);
    // Secret values read by secret() and sharedSecret() are replaced with *** in what the run records
    if (data) secrets.values = data.secretsRead;
    const clean = (text: string) => redactValues(redactSecrets(text), secrets.values());
    const records = new Map(recorded.map(r => [r.idx, r]));
    const progress: Progress = { outputs: {}, statuses: new Map() };
    for (let idx = 0; idx < p.currentStep; idx++) {
      const rec = records.get(idx);
      const alias = stepAlias(p.steps[idx], idx);
      if (rec) this.record(progress, p.steps[idx], idx, rec.status, rec.outputs, problemText(alias, rec.status, rec.message));
    }
    let metadata: MetadataSnapshot | undefined = snapshot;
    const metadataWriter = {
      set: async (kind: 'Stage' | 'Freight', name: string, values: Record<string, unknown>) => {
        await this.options.metadata.set(p.project, kind, name, values);
        metadata = undefined; // read again before the next step
      },
    };
    // the freight the stage holds from each warehouse: `commitFrom(repo, warehouse("other"))` reads it
    const held = await this.options.freight.heldInStage(p.project, p.stage);
    const freightAliases = freightAliasWriter(this.options.freight, p, freight, change =>
      this.options.onFreightAliasChanged?.(change),
    );
    const artifactFunctions = this.options.artifactFunctions(freight.artifacts, `freight ${freight.alias}`, {
      warehouse: freight.warehouse,
      held: new Map([...held].map(([w, f]) => [w, { artifacts: f.artifacts, owner: `freight ${f.alias}` }])),
    });
    const replaced = held.get(freight.warehouse);
    const rollback = !!replaced && replaced.id !== freight.id && replaced.createdAt > freight.createdAt;
    const envFor = (step: RunnableStep, alias: string, vars: Record<string, unknown>): ExpressionEnv =>
      promotionEnv({
        project: p.project,
        stage: p.stage,
        promotionId: p.id,
        actor: p.createdBy,
        rollback,
        uiBaseUrl: this.options.uiBaseUrl,
        freight,
        artifactFunctions,
        vars,
        outputs: progress.outputs,
        stepAlias: alias,
        taskOutputs: step.task ? taskOutputs(progress.outputs, step.task.alias) : undefined,
        statuses: progress.statuses,
        failed: !!progress.problem,
        metadata,
        projectFunctions: data?.functions,
      });
    const baseVars = resolveVars(p.vars, {}, v => envFor({ uses: '' }, '', v));

    for (let idx = p.currentStep; idx < p.steps.length; idx++) {
      if (control.signal.aborted) return this.stop(p, idx, control);
      const step = p.steps[idx];
      const alias = stepAlias(step, idx);
      const rec = records.get(idx);
      const resumed = rec?.status === 'Running';
      metadata ??= await this.options.metadata.snapshot(p.project);
      let startedAt = rec?.startedAt ?? this.now();
      let result: StepResult;
      let def: StepDefinition | undefined;
      try {
        let vars = resolveVars(step.task?.vars ?? [], baseVars, v => envFor(step, alias, v));
        vars = resolveVars(step.vars ?? [], vars, v => envFor(step, alias, v));
        const env = envFor(step, alias, vars);
        if (!resumed) {
          // `if` is decided once, before the step first runs; without one, an earlier failure skips it
          const run = step.if?.trim() ? evaluate(unwrapExpression(step.if), env) : !progress.problem;
          if (typeof run !== 'boolean') {
            throw new StepFailure(`if must be true or false, but "${step.if}" is ${JSON.stringify(run)}`);
          }
          if (!run) {
            const why = step.if?.trim() ? `skipped: ${step.if} is false` : 'skipped: an earlier step failed';
            await this.updateStep(p, idx, { status: 'Skipped', message: why, finishedAt: this.now() });
            progress.statuses.set(alias, 'Skipped');
            continue;
          }
          startedAt = this.now();
          await this.updateStep(p, idx, { status: 'Running', startedAt, finishedAt: null });
        }
        def = this.steps.get(step.uses);
        if (!def) throw new StepFailure(`unknown step "${step.uses}"`);
        result = await def.run(this.context(p, freight, alias, { ...folders, gitIdentity }, control, progress, rec, metadataWriter, freightAliases), this.config(def, step, env));
      } catch (e) {
        if (control.signal.aborted) return this.stop(p, idx, control);
        const text = clean(e instanceof Error ? e.message : String(e));
        const errors = (rec?.errorCount ?? 0) + 1;
        if (!isTerminal(e)) {
          const threshold = step.retry?.errorThreshold ?? 1;
          if (errors < threshold) {
            const waitMs = errorBackoffMs(errors);
            await this.updateStep(p, idx, {
              status: 'Running',
              message: `error ${errors} in a row (retry.errorThreshold ${threshold} fails the step): ${text}; trying again in ${Math.round(waitMs / 1000)} s`,
              errorCount: errors,
            });
            return this.wait(p, idx, waitMs);
          }
        }
        const status = isTerminal(e) ? 'Failed' : 'Errored';
        const message = isTerminal(e) ? text : `${step.uses} errored: ${text}`;
        await this.updateStep(p, idx, {
          status,
          message,
          finishedAt: this.now(),
          state: null,
          ...(status === 'Errored' ? { errorCount: errors } : {}),
        });
        this.record(progress, step, idx, status, undefined, problemText(alias, status, message));
        continue;
      }

      const tooLarge = outputsTooLarge(alias, step.uses, result.outputs, this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
      // outputs are stored and shown to every reader of the promotion: none at all rather than too many
      if (tooLarge) result = { status: 'Failed', message: tooLarge };
      const message = result.message ? clean(result.message) : null;
      if (result.outputs && secrets.values().length) result = { ...result, outputs: redactDeep(result.outputs, secrets.values()) };
      if (result.status === 'Running') {
        const limit = step.retry?.timeout ? parseDuration(step.retry.timeout) : def.defaultTimeoutMs;
        const elapsed = this.options.clock.now().getTime() - Date.parse(startedAt);
        if (limit === undefined || elapsed < limit) {
          await this.updateStep(p, idx, { status: 'Running', message, state: result.state ?? null, errorCount: 0 });
          return this.wait(p, idx, Math.max(1000, result.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS));
        }
        const timedOut = `still running after ${formatMs(limit)} (${step.retry?.timeout ? 'retry.timeout' : `the ${step.uses} step's limit`})${message ? `: ${message}` : ''}`;
        await this.updateStep(p, idx, { status: 'Failed', message: timedOut, finishedAt: this.now(), state: null });
        this.record(progress, step, idx, 'Failed', undefined, problemText(alias, 'Failed', timedOut));
        continue;
      }
      await this.updateStep(p, idx, {
        status: result.status,
        message,
        outputs: result.outputs ?? {},
        finishedAt: this.now(),
        errorCount: 0,
        state: null,
        ...(result.status === 'Succeeded' && result.healthCheck ? { healthCheck: result.healthCheck } : {}),
      });
      this.record(progress, step, idx, result.status, result.outputs ?? {}, problemText(alias, result.status, message));
    }
    if (progress.problem) return progress.problem;
    return { phase: 'Succeeded' };
  }

  /** Adds a finished step to the progress: its status, outputs, and whether it failed the promotion. */
  private record(
    progress: Progress,
    step: RunnableStep,
    idx: number,
    status: StepStatus,
    outputs: Record<string, unknown> | undefined,
    problem: string,
  ) {
    const alias = stepAlias(step, idx);
    progress.statuses.set(alias, status);
    if (outputs) {
      progress.outputs[alias] = outputs;
      // compose-output inside a PromotionTask speaks for the task: outputs.<calling step>
      if (step.task && step.uses === 'compose-output') {
        progress.outputs[step.task.alias] = { ...progress.outputs[step.task.alias], ...outputs };
      }
    }
    if (FAILED.has(status) && !step.continueOnError && !progress.problem) {
      progress.problem = { phase: status === 'Errored' ? 'Errored' : 'Failed', message: problem };
    }
  }

  /** The step's config with its expressions evaluated, checked against the step's schema. */
  private config(def: StepDefinition, step: RunnableStep, env: ExpressionEnv): unknown {
    let config: unknown;
    try {
      config = evaluateTemplate(step.config ?? {}, env);
    } catch (e) {
      throw new StepFailure((e as Error).message);
    }
    const parsed = def.schema.safeParse(config);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(i => `${formatPath('config', i.path)}: ${describeIssue(i)}`);
      throw new StepFailure(issues.join('; '));
    }
    return parsed.data;
  }

  private context(
    p: ClaimedPromotion,
    freight: StoredFreight,
    alias: string,
    folders: { workDir: string; cloneStore: string; gitIdentity: GitIdentity },
    control: RunControl,
    progress: Progress,
    rec: StepRecord | undefined,
    metadata: StepContext['metadata'],
    freightAliases: StepContext['freightAliases'],
  ): StepContext {
    return {
      ...folders,
      project: p.project,
      stage: p.stage,
      promotionId: p.id,
      freight,
      alias,
      logger: this.options.logger,
      outputs: progress.outputs,
      signal: control.signal,
      credentials: this.options.credentialsFor?.(p.project) ?? this.options.credentials ?? noScmCredentials,
      state: rec?.status === 'Running' ? rec.state : undefined,
      metadata,
      freightAliases,
      fetch: this.options.fetch ?? globalThis.fetch,
      egress: this.options.egress ?? DEFAULT_EGRESS_POLICY,
      registry: this.registry(),
      registryCredentials: this.options.registryCredentialsFor?.(p.project),
      kube: this.options.kube ?? unconfiguredClusters,
      argocd: this.options.argocd ?? DEFAULT_ARGOCD_SETTINGS,
      actor: p.createdBy,
    };
  }

  private ownRegistry?: RegistryClient;

  /** The engine's registry client, or one of this runner's own (made when a step first needs it). */
  private registry(): RegistryClient {
    if (this.options.registry) return this.options.registry;
    this.ownRegistry ??= new RegistryClient();
    return this.ownRegistry;
  }

  /** Records a step's progress, as long as this worker still holds the promotion. */
  private updateStep(p: ClaimedPromotion, idx: number, values: Parameters<PromotionStore['updateStep']>[2]) {
    return this.options.promotions.updateStep(p.id, idx, values, p.claimedBy);
  }

  /**
   * Puts the promotion aside until a step runs again; or ends it Aborted when someone asked
   * to abort while the step ran (the store will not park it then).
   */
  private async wait(
    p: ClaimedPromotion,
    idx: number,
    afterMs: number,
  ): Promise<RunOutcome | { phase: FinalPhase; message?: string }> {
    const { promotions, clock } = this.options;
    const wakeAt = new Date(clock.now().getTime() + afterMs).toISOString();
    if (await promotions.park(p.id, p.claimedBy, idx, wakeAt)) return 'waiting';
    // read the claim (renewing it the while: the worker's own heartbeat goes on renewing it)
    const claim = await promotions.heartbeat(p.id, p.claimedBy, wakeAt);
    if (!claim.held || !claim.abortRequestedBy) return 'lost';
    return this.aborted(p, idx, claim.abortRequestedBy);
  }

  /** The worker told the promotion to stop: aborted, given back at shutdown, or lost. */
  private async stop(
    p: ClaimedPromotion,
    idx: number,
    control: RunControl,
  ): Promise<RunOutcome | { phase: FinalPhase; message?: string }> {
    const reason = control.reason();
    if (reason === 'lost') return 'lost';
    if (reason === 'shutdown') {
      const message = 'the backend running it shut down: it starts over from its first step';
      const ok = await this.options.promotions.requeue(p.id, { claimedBy: p.claimedBy }, this.now(), message);
      return ok ? 'requeued' : 'lost';
    }
    return this.aborted(p, idx, control.abortedBy() ?? 'a user');
  }

  /** Ends the promotion Aborted, in (or before) step idx. */
  private async aborted(p: ClaimedPromotion, idx: number, by: string): Promise<{ phase: FinalPhase; message: string }> {
    if (idx < p.steps.length) {
      await this.updateStep(p, idx, {
        status: 'Aborted',
        message: `aborted by ${by}`,
        finishedAt: this.now(),
      });
    }
    return { phase: 'Aborted', message: `aborted by ${by}` };
  }
}

/** The Secret values a run's expressions have read so far. */
interface SecretsRead {
  values(): string[];
}

/** Every string in a step's outputs with these values replaced (keys are left alone). */
function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redactValues(value, secrets) as T;
  if (Array.isArray(value)) return value.map(v => redactDeep(v, secrets)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)])) as T;
  }
  return value;
}

/** The outputs of one call of a PromotionTask, by each step's alias inside the task. */
function taskOutputs(outputs: Record<string, Record<string, unknown>>, taskAlias: string) {
  const prefix = `${taskAlias}::`;
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([alias]) => alias.startsWith(prefix))
      .map(([alias, values]) => [alias.slice(prefix.length), values]),
  );
}

/** Evaluates vars in order; each may use the ones before it. */
function resolveVars(
  defs: Var[],
  inherited: Record<string, unknown>,
  envWith: (vars: Record<string, unknown>) => ExpressionEnv,
): Record<string, unknown> {
  const vars: Record<string, unknown> = { ...inherited };
  for (const v of defs) {
    try {
      vars[v.name] = evaluateTemplate(v.value, envWith({ ...vars }));
    } catch (e) {
      throw new StepFailure(`var "${v.name}": ${(e as Error).message}`);
    }
  }
  return vars;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
