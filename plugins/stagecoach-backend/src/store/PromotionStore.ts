import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  Promotion,
  PromotionPhase,
  PromotionStep,
  StepStatus,
} from '@stagecoach/plugin-stagecoach-common';
import type { RunnableStep, Var } from '../manifests/schemas';
import { defaultStepAlias } from '../manifests/promotionTasks';
import type { HealthCheck } from '../integrations/argocd/types';
import { PromotionRow, PromotionStepRow } from './rows';

export interface NewPromotion {
  project: string;
  stage: string;
  freightId: string;
  steps: RunnableStep[];
  vars: Var[];
  createdBy?: string;
}

/** A promotion claimed by a worker, with what it needs to run. */
export interface ClaimedPromotion extends NewPromotion {
  id: string;
  /** The step to start at: 0 for a fresh start, else the step a waiting promotion waited in. */
  currentStep: number;
  /** How many times the promotion was started from its first step (1 the first time). */
  attempts: number;
  /** The worker that holds the claim. */
  claimedBy: string;
  /** Starting from the first step (a new promotion, or one started over), not resuming. */
  fresh: boolean;
}

/** What a step left behind, for a promotion that resumes after waiting. */
export interface StepRecord {
  idx: number;
  status: StepStatus;
  message?: string;
  outputs?: Record<string, unknown>;
  errorCount: number;
  state?: Record<string, unknown>;
  startedAt?: string;
}

/** How a running promotion stands, as seen by the worker's heartbeat. */
export interface ClaimStatus {
  /** False when the claim was lost (it expired and another worker took the promotion). */
  held: boolean;
  abortRequestedBy?: string;
}

export type FinalPhase = Exclude<PromotionPhase, 'Pending' | 'Running'>;

/** Another worker claimed the promotion between our two updates. */
class LostRace extends Error {}

export const stepAlias = (step: { as?: string }, index: number) => step.as ?? defaultStepAlias(index);

/** current_step of a promotion given back to the queue to start over (see requeue). */
const START_OVER = -1;

const toClaimed = (r: PromotionRow, workerId: string, fresh: boolean): ClaimedPromotion => ({
  id: r.id,
  project: r.project,
  stage: r.stage,
  freightId: r.freight_id,
  steps: JSON.parse(r.steps_json),
  vars: JSON.parse(r.vars_json),
  createdBy: r.created_by ?? undefined,
  currentStep: fresh ? 0 : r.current_step,
  attempts: r.attempts,
  claimedBy: workerId,
  fresh,
});

/**
 * The claims won among claims made side by side. A claim that failed (the database) is
 * thrown only when none was won: those that were are the caller's to run, and a lasting
 * failure shows again at the next claim.
 */
function wonClaims(results: PromiseSettledResult<ClaimedPromotion | undefined>[], wonBefore = 0): ClaimedPromotion[] {
  const won = results.flatMap(r => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed && won.length + wonBefore === 0) throw failed.reason;
  return won;
}

/**
 * Promotions and their steps, and the queue that runs them. One promotion per stage runs at
 * a time: a worker claims a pending promotion through the stage row (current_promotion_id IS
 * NULL), so two workers never run one stage at once. A running promotion is held by one
 * worker (claimed_by) whose claim expires unless renewed; a promotion whose step waits (a
 * pull request still open) keeps its stage but lets go of its worker until wake_at.
 */
export class PromotionStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Queues a promotion. With `supersede`, the stage's older pending promotions are aborted
   * in the same transaction (their message names the newer one).
   */
  async create(p: NewPromotion, now: string, options: { supersede?: boolean } = {}): Promise<string> {
    const id = `${p.stage}.${Date.parse(now).toString(36)}.${randomUUID().slice(0, 8)}`;
    await this.knex.transaction(async tx => {
      if (options.supersede) {
        const older: { id: string }[] = await tx('stagecoach_promotions')
          .where({ project: p.project, stage: p.stage, phase: 'Pending' })
          .select('id');
        if (older.length > 0) {
          const ids = older.map(o => o.id);
          await tx('stagecoach_promotions')
            .whereIn('id', ids)
            .andWhere({ phase: 'Pending' })
            .update({ phase: 'Aborted', message: `superseded by promotion ${id}`, finished_at: now });
          await tx('stagecoach_promotion_steps').whereIn('promotion_id', ids).update({ status: 'Aborted' });
        }
      }
      await tx('stagecoach_promotions').insert({
        id,
        project: p.project,
        stage: p.stage,
        freight_id: p.freightId,
        phase: 'Pending',
        steps_json: JSON.stringify(p.steps),
        vars_json: JSON.stringify(p.vars),
        created_by: p.createdBy ?? null,
        created_at: now,
        attempts: 0,
        current_step: 0,
      } satisfies Partial<PromotionRow>);
      if (p.steps.length > 0) {
        await tx('stagecoach_promotion_steps').insert(
          p.steps.map((s, idx) => ({
            promotion_id: id,
            idx,
            uses: s.uses,
            alias: stepAlias(s, idx),
            status: 'Pending',
          })),
        );
      }
    });
    return id;
  }

  /**
   * Claims work: a waiting promotion whose time has come, or else the oldest pending
   * promotion of a stage that has none running. Every claim is a conditional update, so
   * exactly one of several racing workers wins each promotion.
   */
  async claimNext(workerId: string, now: string, claimTtlMs: number): Promise<ClaimedPromotion | undefined> {
    return (await this.claimBatch(workerId, now, claimTtlMs, 1))[0];
  }

  /**
   * Claims up to `max` promotions in a few round trips:
   * waiting promotions whose time has come first, then the oldest pending promotion of each
   * stage that has none running. The conditional updates run side by side (they touch
   * different rows). Candidates another worker won meanwhile are replaced by the next ones,
   * so an empty answer means there is nothing to claim now.
   */
  async claimBatch(workerId: string, now: string, claimTtlMs: number, max: number): Promise<ClaimedPromotion[]> {
    const expires = new Date(Date.parse(now) + claimTtlMs).toISOString();
    const claimed = wonClaims(
      await Promise.allSettled((await this.waking(now, max)).map(w => this.claimWaking(w, workerId, expires))),
    );
    while (claimed.length < max) {
      const candidates = await this.oldestPendingPerFreeStage(max - claimed.length);
      const results = await Promise.allSettled(candidates.map(c => this.claimPending(c, workerId, now, expires)));
      const won = wonClaims(results, claimed.length);
      claimed.push(...won);
      // all won (or none left); a failed claim is not tried again in this call
      if (won.length === candidates.length || results.some(r => r.status === 'rejected')) break;
    }
    return claimed;
  }

  /** The oldest pending promotion of each stage that has none running, oldest first. */
  private oldestPendingPerFreeStage(limit: number): Promise<PromotionRow[]> {
    return this.knex('stagecoach_promotions as p')
      .join('stagecoach_stages as s', function on() {
        this.on('s.project', '=', 'p.project').andOn('s.name', '=', 'p.stage');
      })
      .whereNull('s.current_promotion_id')
      .andWhere('p.phase', 'Pending')
      .whereNotExists(function older() {
        this.select(1)
          .from('stagecoach_promotions as o')
          .whereRaw('o.project = p.project')
          .andWhereRaw('o.stage = p.stage')
          .andWhere('o.phase', 'Pending')
          .andWhere(q =>
            q.whereRaw('o.created_at < p.created_at').orWhere(e => e.whereRaw('o.created_at = p.created_at').andWhereRaw('o.id < p.id')),
          );
      })
      .orderBy([{ column: 'p.created_at' }, { column: 'p.id' }])
      .select('p.*')
      .limit(limit);
  }

  /** Waiting promotions whose time has come (they hold their stage, and no worker). */
  private waking(now: string, limit: number): Promise<PromotionRow[]> {
    return this.knex('stagecoach_promotions')
      .where({ phase: 'Running' })
      .whereNull('claimed_by')
      .andWhere('wake_at', '<=', now)
      .orderBy('wake_at')
      .limit(limit);
  }

  /** Takes a waiting promotion, unless another worker took it first. */
  private async claimWaking(w: PromotionRow, workerId: string, expires: string): Promise<ClaimedPromotion | undefined> {
    const fresh = w.current_step === START_OVER;
    const attempts = fresh ? w.attempts + 1 : w.attempts;
    const won = await this.knex('stagecoach_promotions')
      .where({ id: w.id, phase: 'Running', wake_at: w.wake_at })
      .whereNull('claimed_by')
      .update({
        claimed_by: workerId,
        claim_expires_at: expires,
        wake_at: null,
        attempts,
        ...(fresh ? { current_step: 0 } : {}),
      });
    return won === 1 ? toClaimed({ ...w, attempts }, workerId, fresh) : undefined;
  }

  /** Starts a pending promotion: takes its stage, then the promotion, unless another worker was first. */
  private async claimPending(
    c: PromotionRow,
    workerId: string,
    now: string,
    expires: string,
  ): Promise<ClaimedPromotion | undefined> {
    const won = await this.knex
      .transaction(async tx => {
        const locked = await tx('stagecoach_stages')
          .where({ project: c.project, name: c.stage })
          .whereNull('current_promotion_id')
          .update({ current_promotion_id: c.id });
        if (locked !== 1) return false;
        const claimed = await tx('stagecoach_promotions')
          .where({ id: c.id, phase: 'Pending' })
          .update({
            phase: 'Running',
            started_at: now,
            claimed_by: workerId,
            claim_expires_at: expires,
            attempts: c.attempts + 1,
            current_step: 0,
          });
        if (claimed !== 1) throw new LostRace();
        return true;
      })
      .catch(e => {
        if (e instanceof LostRace) return false;
        throw e;
      });
    return won ? toClaimed({ ...c, attempts: c.attempts + 1 }, workerId, true) : undefined;
  }

  /** Renews a claim; tells whether it is still held and whether someone asked to abort. */
  async heartbeat(id: string, workerId: string, expiresAt: string): Promise<ClaimStatus> {
    const held = await this.knex('stagecoach_promotions')
      .where({ id, claimed_by: workerId, phase: 'Running' })
      .update({ claim_expires_at: expiresAt });
    if (held !== 1) return { held: false };
    const row: Pick<PromotionRow, 'abort_requested_by'> | undefined = await this.knex('stagecoach_promotions')
      .where({ id })
      .first('abort_requested_by');
    return { held: true, abortRequestedBy: row?.abort_requested_by ?? undefined };
  }

  /** What a promotion's succeeded steps left for the stage's health to be made of, in step order. */
  async healthChecks(promotionId: string): Promise<HealthCheck[]> {
    const rows: Pick<PromotionStepRow, 'health_check_json'>[] = await this.knex('stagecoach_promotion_steps')
      .where({ promotion_id: promotionId, status: 'Succeeded' })
      .whereNotNull('health_check_json')
      .orderBy('idx')
      .select('health_check_json');
    return rows.map(r => JSON.parse(r.health_check_json!) as HealthCheck);
  }

  /** What each step of a promotion left behind (outputs, error counts, state). */
  async stepRecords(promotionId: string): Promise<StepRecord[]> {
    const rows: PromotionStepRow[] = await this.knex('stagecoach_promotion_steps')
      .where({ promotion_id: promotionId })
      .orderBy('idx');
    return rows.map(r => ({
      idx: r.idx,
      status: r.status as StepStatus,
      message: r.message ?? undefined,
      outputs: r.outputs_json ? JSON.parse(r.outputs_json) : undefined,
      errorCount: r.error_count ?? 0,
      state: r.state_json ? JSON.parse(r.state_json) : undefined,
      startedAt: r.started_at ?? undefined,
    }));
  }

  async updateStep(
    promotionId: string,
    idx: number,
    values: {
      status: StepStatus;
      message?: string | null;
      outputs?: unknown;
      startedAt?: string;
      finishedAt?: string | null;
      errorCount?: number;
      state?: unknown;
      /** What the stage's health is made of after this step (argocd-update's apps). */
      healthCheck?: HealthCheck;
    },
    /** Only while this worker holds the promotion: one that lost its claim writes nothing. */
    claimedBy?: string,
  ): Promise<void> {
    const row: Partial<PromotionStepRow> = { status: values.status };
    if (values.message !== undefined) row.message = values.message;
    if (values.outputs !== undefined) row.outputs_json = JSON.stringify(values.outputs);
    if (values.startedAt) row.started_at = values.startedAt;
    if (values.finishedAt !== undefined) row.finished_at = values.finishedAt;
    if (values.errorCount !== undefined) row.error_count = values.errorCount;
    if (values.state !== undefined) row.state_json = values.state === null ? null : JSON.stringify(values.state);
    if (values.healthCheck !== undefined) row.health_check_json = JSON.stringify(values.healthCheck);
    const q = this.knex('stagecoach_promotion_steps').where({ promotion_id: promotionId, idx });
    if (claimedBy) {
      q.whereIn('promotion_id', this.knex('stagecoach_promotions').select('id').where({ id: promotionId, claimed_by: claimedBy }));
    }
    await q.update(row);
  }

  /**
   * Puts a running promotion aside until `wakeAt`: it keeps its stage, lets go of its worker,
   * and resumes at `currentStep` on whichever worker claims it then. Refused (false) for a
   * promotion someone asked to abort meanwhile: parked, it would run its step again before
   * a heartbeat could see the request, and again, and never stop.
   */
  async park(id: string, workerId: string, currentStep: number, wakeAt: string): Promise<boolean> {
    const n = await this.knex('stagecoach_promotions')
      .where({ id, claimed_by: workerId, phase: 'Running' })
      .whereNull('abort_requested_by')
      .update({ claimed_by: null, claim_expires_at: null, wake_at: wakeAt, current_step: currentStep });
    return n === 1;
  }

  /**
   * Starts a running promotion over from its first step, on any worker, now: for a claim
   * that expired (its backend died) or one given back at shutdown. Its steps are reset.
   * `claimedBy` (and `expiredBefore`) make it conditional on the claim still being that one.
   */
  async requeue(
    id: string,
    claim: { claimedBy: string; expiredBefore?: string },
    now: string,
    message: string,
  ): Promise<boolean> {
    return this.knex.transaction(async tx => {
      const q = tx('stagecoach_promotions').where({ id, phase: 'Running', claimed_by: claim.claimedBy });
      if (claim.expiredBefore) q.andWhere('claim_expires_at', '<', claim.expiredBefore);
      const n = await q.update({ claimed_by: null, claim_expires_at: null, wake_at: now, current_step: START_OVER, message });
      if (n !== 1) return false;
      await tx('stagecoach_promotion_steps').where({ promotion_id: id }).update({
        status: 'Pending',
        message: null,
        outputs_json: null,
        started_at: null,
        finished_at: null,
        error_count: 0,
        state_json: null,
        health_check_json: null,
      });
      return true;
    });
  }

  /**
   * Ends a running promotion and releases its stage. With `claimedBy`, only while that worker
   * holds it (a worker that lost its claim cannot end what another now runs); with
   * `unclaimed`, only while no worker holds it (a waiting promotion). On success the stage's
   * current freight moves and `onSuccess` runs in the same transaction.
   */
  async finish(
    p: { id: string; project: string; stage: string; freightId: string },
    phase: FinalPhase,
    message: string | undefined,
    now: string,
    options: { claimedBy?: string; unclaimed?: boolean; onSuccess?: (tx: Knex.Transaction) => Promise<void> } = {},
  ): Promise<boolean> {
    return this.knex.transaction(async tx => {
      const q = tx('stagecoach_promotions').where({ id: p.id, phase: 'Running' });
      if (options.claimedBy) q.andWhere({ claimed_by: options.claimedBy });
      if (options.unclaimed) q.whereNull('claimed_by');
      const ended = await q.update({
        phase,
        message: message ?? null,
        finished_at: now,
        claimed_by: null,
        claim_expires_at: null,
        wake_at: null,
      });
      if (ended !== 1) return false; // already ended elsewhere, or no longer ours
      await tx('stagecoach_promotion_steps')
        .where({ promotion_id: p.id })
        .whereIn('status', ['Pending', 'Running'])
        .update({ status: phase === 'Succeeded' ? 'Skipped' : 'Aborted' });
      const stageUpdate: Record<string, unknown> = { current_promotion_id: null };
      if (phase === 'Succeeded') stageUpdate.current_freight_id = p.freightId;
      await tx('stagecoach_stages')
        .where({ project: p.project, name: p.stage, current_promotion_id: p.id })
        .update(stageUpdate);
      if (phase === 'Succeeded' && options.onSuccess) await options.onSuccess(tx);
      return true;
    });
  }

  /**
   * Aborts a promotion. A pending one, or one waiting with no worker, ends Aborted at once;
   * a running one is flagged, and its worker stops it within a heartbeat. Returns what
   * happened; ConflictError for a promotion that already ended.
   */
  async requestAbort(
    project: string,
    id: string,
    actor: string,
    now: string,
  ): Promise<'aborted' | 'requested'> {
    const row: PromotionRow | undefined = await this.knex('stagecoach_promotions').where({ project, id }).first();
    if (!row) throw new NotFoundError(`promotion "${id}" not found in project "${project}"`);
    const message = `aborted by ${actor}`;
    if (row.phase === 'Pending') {
      const n = await this.knex('stagecoach_promotions')
        .where({ id, phase: 'Pending' })
        .update({ phase: 'Aborted', message, finished_at: now, abort_requested_by: actor, abort_requested_at: now });
      if (n === 1) {
        await this.knex('stagecoach_promotion_steps').where({ promotion_id: id }).update({ status: 'Aborted' });
        return 'aborted';
      }
      return this.requestAbort(project, id, actor, now); // it started meanwhile
    }
    if (row.phase === 'Running') {
      await this.knex('stagecoach_promotions')
        .where({ id, phase: 'Running' })
        .update({ abort_requested_by: actor, abort_requested_at: now });
      const ref = { id, project, stage: row.stage, freightId: row.freight_id };
      if (await this.finish(ref, 'Aborted', message, now, { unclaimed: true })) {
        // the step it waited in says so too, as a running step that is interrupted does
        await this.knex('stagecoach_promotion_steps')
          .where({ promotion_id: id, idx: row.current_step, status: 'Aborted' })
          .update({ message, finished_at: now });
        return 'aborted';
      }
      return 'requested';
    }
    throw new ConflictError(`promotion "${id}" already ended: it is ${row.phase}`);
  }

  /** The IDs of a stage's promotions that have not ended (Pending or Running), oldest first. */
  async activeIds(project: string, stage: string): Promise<string[]> {
    const rows: Pick<PromotionRow, 'id'>[] = await this.knex('stagecoach_promotions')
      .where({ project, stage })
      .whereIn('phase', ['Pending', 'Running'])
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select('id');
    return rows.map(r => r.id);
  }

  /** Running promotions whose worker stopped renewing its claim (a crashed or stopped backend). */
  async expiredClaims(now: string): Promise<PromotionRow[]> {
    return this.knex('stagecoach_promotions')
      .where({ phase: 'Running' })
      .whereNotNull('claimed_by')
      .andWhere('claim_expires_at', '<', now);
  }

  /** The phase and attempt count of each of these promotions (those that still exist). */
  async attemptStates(ids: string[]): Promise<Map<string, { phase: PromotionPhase; attempts: number }>> {
    const out = new Map<string, { phase: PromotionPhase; attempts: number }>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows: Pick<PromotionRow, 'id' | 'phase' | 'attempts'>[] = await this.knex('stagecoach_promotions')
        .whereIn('id', ids.slice(i, i + 500))
        .select('id', 'phase', 'attempts');
      for (const r of rows) out.set(r.id, { phase: r.phase as PromotionPhase, attempts: r.attempts });
    }
    return out;
  }

  async get(project: string, id: string): Promise<Promotion> {
    const row: PromotionRow | undefined = await this.knex('stagecoach_promotions').where({ project, id }).first();
    if (!row) throw new NotFoundError(`promotion "${id}" not found in project "${project}"`);
    return (await this.toViews([row]))[0];
  }

  async list(project: string, filter: { stage?: string; limit?: number } = {}): Promise<Promotion[]> {
    const q = this.knex('stagecoach_promotions')
      .where({ project })
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(Math.min(filter.limit ?? 50, 500));
    if (filter.stage) q.andWhere({ stage: filter.stage });
    return this.toViews(await q);
  }

  /**
   * The stage's newest promotion that started (one still queued, or aborted before it ran,
   * changed nothing), with its steps: what the stage's health is made of.
   */
  async lastStarted(project: string, stage: string): Promise<Promotion | undefined> {
    const row: PromotionRow | undefined = await this.knex('stagecoach_promotions')
      .where({ project, stage })
      .whereNotNull('started_at')
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .first();
    return row ? (await this.toViews([row]))[0] : undefined;
  }

  /** The newest promotion of each stage of a project. */
  async lastPerStage(project: string): Promise<Map<string, Promotion>> {
    const latest = this.knex('stagecoach_promotions')
      .where({ project })
      .groupBy('stage')
      .select('stage')
      .max({ created_at: 'created_at' });
    const rows: PromotionRow[] = await this.knex('stagecoach_promotions as p')
      .join(latest.as('l'), function on() {
        this.on('l.stage', '=', 'p.stage').andOn('l.created_at', '=', 'p.created_at');
      })
      .where('p.project', project)
      .select('p.*')
      .orderBy('p.id', 'desc');
    const views = await this.toViews(rows);
    const out = new Map<string, Promotion>();
    for (const v of views) if (!out.has(v.stage)) out.set(v.stage, v);
    return out;
  }

  private async toViews(rows: PromotionRow[]): Promise<Promotion[]> {
    if (rows.length === 0) return [];
    const stepRows: PromotionStepRow[] = await this.knex('stagecoach_promotion_steps')
      .whereIn('promotion_id', rows.map(r => r.id))
      .orderBy([{ column: 'promotion_id' }, { column: 'idx' }]);
    const aliases: { id: string; alias: string }[] = await this.knex('stagecoach_freight')
      .where('project', rows[0].project)
      .whereIn('id', [...new Set(rows.map(r => r.freight_id))])
      .select('id', 'alias');
    const aliasOf = new Map(aliases.map(a => [a.id, a.alias]));
    const stepsOf = new Map<string, PromotionStep[]>();
    for (const s of stepRows) {
      const list = stepsOf.get(s.promotion_id) ?? [];
      list.push({
        index: s.idx,
        uses: s.uses,
        alias: s.alias,
        status: s.status as StepStatus,
        message: s.message ?? undefined,
        startedAt: s.started_at ?? undefined,
        finishedAt: s.finished_at ?? undefined,
        ...(s.error_count ? { errorCount: s.error_count } : {}),
        ...(s.outputs_json ? { outputs: JSON.parse(s.outputs_json) } : {}),
      });
      stepsOf.set(s.promotion_id, list);
    }
    return rows.map(r => ({
      id: r.id,
      project: r.project,
      stage: r.stage,
      freight: { id: r.freight_id, alias: aliasOf.get(r.freight_id) ?? r.freight_id },
      phase: r.phase as PromotionPhase,
      message: r.message ?? undefined,
      createdBy: r.created_by ?? undefined,
      createdAt: r.created_at,
      startedAt: r.started_at ?? undefined,
      finishedAt: r.finished_at ?? undefined,
      attempts: r.attempts,
      ...(r.phase === 'Running' && r.wake_at ? { waitingUntil: r.wake_at } : {}),
      ...(r.abort_requested_by ? { abortRequestedBy: r.abort_requested_by } : {}),
      steps: stepsOf.get(r.id) ?? [],
    }));
  }
}
