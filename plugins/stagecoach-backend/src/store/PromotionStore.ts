import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { NotFoundError } from '@backstage/errors';
import type {
  Promotion,
  PromotionPhase,
  PromotionStep,
  StepStatus,
} from '@stagecoach/plugin-stagecoach-common';
import type { PromotionStepDefinition, Var } from '../manifests/schemas';
import { PromotionRow, PromotionStepRow } from './rows';

export interface NewPromotion {
  project: string;
  stage: string;
  freightId: string;
  steps: PromotionStepDefinition[];
  vars: Var[];
  createdBy?: string;
}

/** A promotion claimed by a worker, with what it needs to run. */
export interface ClaimedPromotion extends NewPromotion {
  id: string;
}

/** Another worker claimed the promotion between our two updates. */
class LostRace extends Error {}

export const stepAlias = (step: { as?: string }, index: number) => step.as ?? `step-${index + 1}`;

/**
 * Promotions and their steps, and the queue that runs them: one running promotion per
 * stage, claimed through the stage row so that two workers never run one stage at once.
 */
export class PromotionStore {
  constructor(private readonly knex: Knex) {}

  async create(p: NewPromotion, now: string): Promise<string> {
    const id = `${p.stage}.${Date.parse(now).toString(36)}.${randomUUID().slice(0, 8)}`;
    await this.knex.transaction(async tx => {
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
   * Claims the oldest pending promotion of a stage that has none running. The claim is a
   * conditional update of the stage row (current_promotion_id IS NULL) and of the promotion
   * (phase = Pending) in one transaction: exactly one worker wins.
   */
  async claimNext(workerId: string, now: string, claimTtlMs: number): Promise<ClaimedPromotion | undefined> {
    const candidates: PromotionRow[] = await this.knex('stagecoach_promotions as p')
      .join('stagecoach_stages as s', function on() {
        this.on('s.project', '=', 'p.project').andOn('s.name', '=', 'p.stage');
      })
      .whereNull('s.current_promotion_id')
      .andWhere('p.phase', 'Pending')
      .orderBy([{ column: 'p.created_at' }, { column: 'p.id' }])
      .select('p.*')
      .limit(10);
    const seenStages = new Set<string>();
    for (const c of candidates) {
      const stageKey = `${c.project}/${c.stage}`;
      if (seenStages.has(stageKey)) continue; // only the oldest per stage
      seenStages.add(stageKey);
      const expires = new Date(Date.parse(now) + claimTtlMs).toISOString();
      const won = await this.knex.transaction(async tx => {
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
          });
        if (claimed !== 1) throw new LostRace();
        return true;
      }).catch(e => {
        if (e instanceof LostRace) return false;
        throw e;
      });
      if (won) {
        return {
          id: c.id,
          project: c.project,
          stage: c.stage,
          freightId: c.freight_id,
          steps: JSON.parse(c.steps_json),
          vars: JSON.parse(c.vars_json),
          createdBy: c.created_by ?? undefined,
        };
      }
    }
    return undefined;
  }

  async heartbeat(id: string, workerId: string, expiresAt: string): Promise<void> {
    await this.knex('stagecoach_promotions')
      .where({ id, claimed_by: workerId, phase: 'Running' })
      .update({ claim_expires_at: expiresAt });
  }

  async updateStep(
    promotionId: string,
    idx: number,
    values: { status: StepStatus; message?: string | null; outputs?: unknown; startedAt?: string; finishedAt?: string },
  ): Promise<void> {
    const row: Partial<PromotionStepRow> = { status: values.status };
    if (values.message !== undefined) row.message = values.message;
    if (values.outputs !== undefined) row.outputs_json = JSON.stringify(values.outputs);
    if (values.startedAt) row.started_at = values.startedAt;
    if (values.finishedAt) row.finished_at = values.finishedAt;
    await this.knex('stagecoach_promotion_steps').where({ promotion_id: promotionId, idx }).update(row);
  }

  /**
   * Ends a running promotion and releases its stage. On success the stage's current
   * freight moves and the freight counts as verified there (verification arrives later).
   */
  async finish(
    p: { id: string; project: string; stage: string; freightId: string },
    phase: Exclude<PromotionPhase, 'Pending' | 'Running'>,
    message: string | undefined,
    now: string,
    onSuccess?: (tx: Knex.Transaction) => Promise<void>,
  ): Promise<boolean> {
    return this.knex.transaction(async tx => {
      const ended = await tx('stagecoach_promotions')
        .where({ id: p.id, phase: 'Running' })
        .update({ phase, message: message ?? null, finished_at: now, claim_expires_at: null });
      if (ended !== 1) return false; // already ended elsewhere (e.g. its claim expired)
      await tx('stagecoach_promotion_steps')
        .where({ promotion_id: p.id })
        .whereIn('status', ['Pending', 'Running'])
        .update({ status: phase === 'Succeeded' ? 'Skipped' : 'Aborted' });
      const stageUpdate: Record<string, unknown> = { current_promotion_id: null };
      if (phase === 'Succeeded') stageUpdate.current_freight_id = p.freightId;
      await tx('stagecoach_stages')
        .where({ project: p.project, name: p.stage, current_promotion_id: p.id })
        .update(stageUpdate);
      if (phase === 'Succeeded' && onSuccess) await onSuccess(tx);
      return true;
    });
  }

  /** Running promotions whose worker stopped heartbeating (a crashed or stopped backend). */
  async expiredClaims(now: string): Promise<PromotionRow[]> {
    return this.knex('stagecoach_promotions')
      .where({ phase: 'Running' })
      .andWhere('claim_expires_at', '<', now);
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
      steps: stepsOf.get(r.id) ?? [],
    }));
  }
}
