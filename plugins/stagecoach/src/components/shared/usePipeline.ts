import { useApi } from '@backstage/core-plugin-api';
import type {
  EntityPipeline,
  Promotion,
  Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  stagecoachApiRef,
  type StagecoachApi,
  type StagecoachEntityRef,
} from '../../api';
import { isActivePhase } from './PhaseStatus';

/** Refresh interval while a promotion or verification is pending or running. */
export const ACTIVE_POLL_MS = 2500;
/** Refresh interval otherwise. */
export const IDLE_POLL_MS = 10000;

/** Of the promotion the pipeline reports for a stage and one created on this page, the newer. */
export function newestPromotion(
  reported: Promotion | undefined,
  created: Promotion | undefined,
): Promotion | undefined {
  if (!created) return reported;
  if (!reported || reported.id === created.id) return reported ?? created;
  return Date.parse(created.createdAt) > Date.parse(reported.createdAt)
    ? created
    : reported;
}

/**
 * Promotions created on this page that the pipeline does not report yet (say, queued behind
 * another): fetched again while they run, dropped once the pipeline shows them or a newer one.
 */
async function refreshCreated(
  api: StagecoachApi,
  pipeline: EntityPipeline,
  created: Record<string, Promotion>,
): Promise<Record<string, Promotion>> {
  const next: Record<string, Promotion> = {};
  await Promise.all(
    Object.entries(created).map(async ([stageName, promotion]) => {
      const stage = pipeline.stages.find(s => s.name === stageName);
      if (!stage) return;
      if (newestPromotion(stage.lastPromotion, promotion) !== promotion) return;
      if (stage.lastPromotion?.id === promotion.id) return;
      next[stageName] = isActivePhase(promotion.phase)
        ? await api
            .getPromotion(promotion.project, promotion.id)
            .catch(() => promotion)
        : promotion;
    }),
  );
  return next;
}

export interface PipelineState {
  pipeline?: EntityPipeline;
  /** The last load's error; the previous pipeline, if any, is kept. */
  error?: unknown;
  loading: boolean;
  /** Promotions created here that the pipeline does not report yet, by stage. */
  created: Record<string, Promotion>;
  /** True while some promotion is pending or running, so the page refreshes quickly. */
  live: boolean;
  /** True while some verification is pending or running (the page refreshes quickly too). */
  verifying: boolean;
  refresh(): void;
  /** Shows a promotion just created, and refreshes. */
  addPromotion(promotion: Promotion): void;
  /** Shows a stage as the API just answered it (say, after its hold was released), and refreshes. */
  updateStage(stage: Stage): void;
}

/**
 * The entity's pipeline, refreshed every few seconds while a promotion is under way and less
 * often otherwise.
 */
export function usePipeline(
  ref: StagecoachEntityRef,
  options: { activeMs?: number; idleMs?: number } = {},
): PipelineState {
  const { activeMs = ACTIVE_POLL_MS, idleMs = IDLE_POLL_MS } = options;
  const api = useApi(stagecoachApiRef);
  const [state, setState] = useState<{
    pipeline?: EntityPipeline;
    error?: unknown;
    loading: boolean;
  }>({ loading: true });
  const [created, setCreated] = useState<Record<string, Promotion>>({});
  const createdRef = useRef(created);
  createdRef.current = created;
  const [tick, setTick] = useState(0);
  const { kind, namespace, name } = ref;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      let active = false;
      try {
        const pipeline = await api.getEntityPipeline({ kind, namespace, name });
        const looked = createdRef.current;
        const refreshed = await refreshCreated(api, pipeline, looked);
        if (cancelled) return;
        // a promotion queued while this load was under way stays: the next load looks at it
        const stillCreated = { ...refreshed };
        for (const [stage, p] of Object.entries(createdRef.current)) {
          if (looked[stage]?.id !== p.id) stillCreated[stage] = p;
        }
        createdRef.current = stillCreated;
        setState({ pipeline, loading: false });
        setCreated(stillCreated);
        active =
          pipeline.stages.some(
            s =>
              isActivePhase(s.lastPromotion?.phase) ||
              isActivePhase(s.verification?.phase),
          ) || Object.values(stillCreated).some(p => isActivePhase(p.phase));
      } catch (error) {
        if (cancelled) return;
        setState(s => ({ ...s, error, loading: false }));
      }
      timer = setTimeout(() => setTick(t => t + 1), active ? activeMs : idleMs);
    };
    load();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, kind, namespace, name, tick, activeMs, idleMs]);

  const refresh = useCallback(() => setTick(t => t + 1), []);
  const addPromotion = useCallback((promotion: Promotion) => {
    const next = { ...createdRef.current, [promotion.stage]: promotion };
    createdRef.current = next;
    setCreated(next);
    setTick(t => t + 1);
  }, []);

  const updateStage = useCallback((stage: Stage) => {
    setState(s =>
      s.pipeline
        ? {
            ...s,
            pipeline: {
              ...s.pipeline,
              stages: s.pipeline.stages.map(x =>
                x.name === stage.name ? stage : x,
              ),
            },
          }
        : s,
    );
    setTick(t => t + 1);
  }, []);

  const live =
    (state.pipeline?.stages.some(s => isActivePhase(s.lastPromotion?.phase)) ??
      false) ||
    Object.values(created).some(p => isActivePhase(p.phase));
  const verifying =
    state.pipeline?.stages.some(s => isActivePhase(s.verification?.phase)) ??
    false;

  return {
    ...state,
    created,
    live,
    verifying,
    refresh,
    addPromotion,
    updateStage,
  };
}
