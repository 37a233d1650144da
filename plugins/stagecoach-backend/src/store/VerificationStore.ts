import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { MetricResult, Verification, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';
import type { ResolvedAnalysis } from './analysisRows';
import { VerificationRow } from './rows';

export interface NewVerification {
  project: string;
  stage: string;
  freightId: string;
  promotionId?: string;
  createdBy?: string;
  /** What to run; undefined with `error` when the stage's templates could not be resolved. */
  analysis?: ResolvedAnalysis;
  /** Why the verification cannot run at all (an arg without a value): it is created in phase Error. */
  error?: string;
  /** The templates it would have run, for the record. */
  templates: string[];
}

/** A verification a worker holds, with what it needs to go on. */
export interface ClaimedVerification {
  id: string;
  project: string;
  stage: string;
  freightId: string;
  phase: 'Pending' | 'Running';
  analysis: ResolvedAnalysis;
  metrics?: MetricResult[];
  startedAt?: string;
  abortRequestedBy?: string;
  claimedBy: string;
}

const ACTIVE: VerificationPhase[] = ['Pending', 'Running'];

/**
 * Verifications: one analysis run of a stage's AnalysisTemplates for one freight. A worker
 * claims a due one (next_at has come) with a conditional update, does one tick of it
 * (measurements that are due), and lets go with the next time it is due; so a verification
 * whose metrics measure every five minutes holds no worker in between, and several backends
 * share the work. A stage has at most one active verification: a new one supersedes it.
 */
export class VerificationStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Creates a verification (Pending: it waits for the stage to be healthy), superseding the
   * stage's active one: a Pending one ends Aborted at once; a Running one is asked to abort,
   * so that its worker stops its measurements (a running job is deleted).
   */
  async create(v: NewVerification, now: string, supersededBy: string, conn: Knex = this.knex): Promise<string> {
    const id = `${v.stage}.${Date.parse(now).toString(36)}.${randomUUID().slice(0, 8)}`;
    await conn.transaction(async tx => {
      await this.supersede(tx, v.project, v.stage, now, supersededBy);
      const analysis: ResolvedAnalysis = v.analysis ?? { templates: v.templates, args: {}, metrics: [] };
      await tx('stagecoach_verifications').insert({
        id,
        project: v.project,
        stage: v.stage,
        freight_id: v.freightId,
        promotion_id: v.promotionId ?? null,
        phase: v.error ? 'Error' : 'Pending',
        message: v.error ?? 'waiting for the stage to be healthy',
        analysis_json: JSON.stringify(analysis),
        metrics_json: null,
        created_by: v.createdBy ?? null,
        created_at: now,
        finished_at: v.error ? now : null,
        next_at: v.error ? null : now,
      } satisfies Partial<VerificationRow>);
    });
    return id;
  }

  /**
   * Ends the stage's active verification (see create), `by` whom or what (`promotion
   * dev.x1.ab12`): its message says `aborted by <by>`. Returns how many there were.
   */
  async supersedeActive(project: string, stage: string, now: string, by: string): Promise<number> {
    return this.knex.transaction(tx => this.supersede(tx, project, stage, now, by));
  }

  private async supersede(tx: Knex.Transaction, project: string, stage: string, now: string, by: string) {
    // a claimed Pending one is being looked at: its worker's write is refused, as it no longer holds it
    const pending = await tx('stagecoach_verifications')
      .where({ project, stage, phase: 'Pending' })
      .update({
        phase: 'Aborted',
        message: `aborted by ${by}`,
        abort_requested_by: by,
        finished_at: now,
        next_at: null,
        claimed_by: null,
        claim_expires_at: null,
      });
    const running = await tx('stagecoach_verifications')
      .where({ project, stage, phase: 'Running' })
      .whereNull('abort_requested_by')
      .update({ abort_requested_by: by, next_at: now });
    return pending + running;
  }

  /**
   * Claims up to `max` due verifications (next_at has come, and no live claim), one
   * conditional update each: two workers never hold the same one.
   */
  async claimDue(workerId: string, now: string, claimTtlMs: number, max: number): Promise<ClaimedVerification[]> {
    const expires = new Date(Date.parse(now) + claimTtlMs).toISOString();
    const due: VerificationRow[] = await this.knex('stagecoach_verifications')
      .whereIn('phase', ACTIVE)
      .where('next_at', '<=', now)
      .where(q => q.whereNull('claimed_by').orWhere('claim_expires_at', '<', now))
      .orderBy('next_at')
      .limit(max);
    // claimed side by side (each its own conditional update): on PostgreSQL each is a commit
    const won = await Promise.all(
      due.map(async r => {
        const n = await this.knex('stagecoach_verifications')
          .where({ id: r.id, phase: r.phase })
          .where(q => q.whereNull('claimed_by').orWhere('claim_expires_at', '<', now))
          .update({ claimed_by: workerId, claim_expires_at: expires });
        return n === 1 ? r : undefined;
      }),
    );
    const claimed: ClaimedVerification[] = [];
    for (const r of won) {
      if (!r) continue;
      claimed.push({
        id: r.id,
        project: r.project,
        stage: r.stage,
        freightId: r.freight_id,
        phase: r.phase as 'Pending' | 'Running',
        analysis: JSON.parse(r.analysis_json ?? '{"templates":[],"args":{},"metrics":[]}'),
        metrics: r.metrics_json ? JSON.parse(r.metrics_json) : undefined,
        startedAt: r.started_at ?? undefined,
        abortRequestedBy: r.abort_requested_by ?? undefined,
        claimedBy: workerId,
      });
    }
    return claimed;
  }

  /**
   * Records a tick's progress and lets go until `nextAt`, while this worker still holds it.
   * Returns false when the claim was lost (nothing is written then).
   */
  async progress(
    v: Pick<ClaimedVerification, 'id' | 'claimedBy'>,
    values: { phase: 'Pending' | 'Running'; message?: string; metrics?: MetricResult[]; startedAt?: string; nextAt: string },
    now: string,
  ): Promise<boolean> {
    const row: Record<string, unknown> = {
      phase: values.phase,
      message: values.message ?? null,
      // an abort asked for during the tick is acted on now, not at the next measurement
      next_at: this.knex.raw('CASE WHEN abort_requested_by IS NULL THEN ? ELSE ? END', [values.nextAt, now]),
      claimed_by: null,
      claim_expires_at: null,
    };
    if (values.metrics) row.metrics_json = JSON.stringify(values.metrics);
    if (values.startedAt) row.started_at = values.startedAt;
    const n = await this.knex('stagecoach_verifications')
      .where({ id: v.id, claimed_by: v.claimedBy })
      .whereIn('phase', ACTIVE)
      .update(row);
    return n === 1;
  }

  /**
   * Ends a verification held by this worker; `onSuccess` runs in the same transaction (the
   * freight becomes verified in the stage). Returns false when the claim was lost.
   */
  async finish(
    v: Pick<ClaimedVerification, 'id' | 'claimedBy'>,
    values: { phase: VerificationPhase; message?: string; metrics?: MetricResult[]; startedAt?: string },
    now: string,
    onSuccess?: (tx: Knex.Transaction) => Promise<void>,
  ): Promise<boolean> {
    return this.knex.transaction(async tx => {
      const row: Partial<VerificationRow> = {
        phase: values.phase,
        message: values.message ?? null,
        finished_at: now,
        next_at: null,
        claimed_by: null,
        claim_expires_at: null,
      };
      if (values.metrics) row.metrics_json = JSON.stringify(values.metrics);
      if (values.startedAt) row.started_at = values.startedAt;
      const n = await tx('stagecoach_verifications')
        .where({ id: v.id, claimed_by: v.claimedBy })
        .whereIn('phase', ACTIVE)
        .update(row);
      if (n !== 1) return false;
      if (values.phase === 'Successful' && onSuccess) await onSuccess(tx);
      return true;
    });
  }

  /**
   * Aborts the stage's active verification: a Pending one at once, a Running one through its
   * next tick (its worker terminates its measurements). ConflictError when none is active.
   */
  async requestAbort(project: string, stage: string, actor: string, now: string): Promise<string> {
    const active: VerificationRow | undefined = await this.knex('stagecoach_verifications')
      .where({ project, stage })
      .whereIn('phase', ACTIVE)
      .orderBy('created_at', 'desc')
      .first();
    if (!active) throw new ConflictError(`stage "${stage}" has no verification in progress to abort`);
    const message = `aborted by ${actor}`;
    if (active.phase === 'Pending') {
      const n = await this.knex('stagecoach_verifications')
        .where({ id: active.id, phase: 'Pending' })
        .whereNull('claimed_by')
        .update({ phase: 'Aborted', message, finished_at: now, next_at: null, abort_requested_by: actor });
      if (n === 1) return active.id;
    }
    await this.knex('stagecoach_verifications')
      .where({ id: active.id })
      .whereIn('phase', ACTIVE)
      .update({ abort_requested_by: actor, next_at: now });
    return active.id;
  }

  async get(project: string, id: string): Promise<Verification> {
    const row: VerificationRow | undefined = await this.knex('stagecoach_verifications').where({ project, id }).first();
    if (!row) throw new NotFoundError(`verification "${id}" not found in project "${project}"`);
    return (await this.toViews(project, [row]))[0];
  }

  /** A stage's verifications, newest first. */
  async list(project: string, stage: string, limit = 20): Promise<Verification[]> {
    const rows: VerificationRow[] = await this.knex('stagecoach_verifications')
      .where({ project, stage })
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(limit, 500));
    return this.toViews(project, rows);
  }

  /** The newest verification of each stage of a project. */
  async latestPerStage(project: string): Promise<Map<string, Verification>> {
    const latest = this.knex('stagecoach_verifications')
      .where({ project })
      .groupBy('stage')
      .select('stage')
      .max({ created_at: 'created_at' });
    const rows: VerificationRow[] = await this.knex('stagecoach_verifications as v')
      .join(latest.as('l'), function on() {
        this.on('l.stage', '=', 'v.stage').andOn('l.created_at', '=', 'v.created_at');
      })
      .where('v.project', project)
      .select('v.*')
      .orderBy('v.id', 'desc');
    const out = new Map<string, Verification>();
    for (const v of await this.toViews(project, rows)) if (!out.has(v.stage)) out.set(v.stage, v);
    return out;
  }

  private async toViews(project: string, rows: VerificationRow[]): Promise<Verification[]> {
    const ids = [...new Set(rows.map(r => r.freight_id))];
    const aliases = new Map<string, string>(
      ids.length === 0
        ? []
        : (await this.knex('stagecoach_freight').where({ project }).whereIn('id', ids).select('id', 'alias')).map(
            (f: { id: string; alias: string }) => [f.id, f.alias],
          ),
    );
    return rows.map(r => {
      const analysis: ResolvedAnalysis | undefined = r.analysis_json ? JSON.parse(r.analysis_json) : undefined;
      const metrics: MetricResult[] = r.metrics_json ? JSON.parse(r.metrics_json) : [];
      return {
        id: r.id,
        project: r.project,
        stage: r.stage,
        freight: { id: r.freight_id, alias: aliases.get(r.freight_id) ?? r.freight_id.slice(0, 7) },
        ...(r.promotion_id ? { promotionId: r.promotion_id } : {}),
        phase: r.phase as VerificationPhase,
        ...(r.message ? { message: r.message } : {}),
        ...(r.created_by ? { createdBy: r.created_by } : {}),
        createdAt: r.created_at,
        ...(r.started_at ? { startedAt: r.started_at } : {}),
        ...(r.finished_at ? { finishedAt: r.finished_at } : {}),
        ...(r.abort_requested_by ? { abortRequestedBy: r.abort_requested_by } : {}),
        analysisTemplates: analysis?.templates ?? [],
        ...(analysis && Object.keys(analysis.args).length > 0 ? { args: analysis.args } : {}),
        metrics,
      };
    });
  }
}
