import { z } from 'zod';
import { appSelectorSchema, UnknownClusterError } from '../../integrations/argocd/applications';
import { KubeApiError } from '../../integrations/kubernetes/types';
import { StepConfigError } from '../workDir';

/** The fields argocd-update and argocd-wait share to name apps: Kargo's, plus `cluster`. */
export const appTargetFields = {
  name: z.string().min(1).optional(),
  selector: appSelectorSchema.optional(),
  namespace: z.string().min(1).optional(),
  /** Stagecoach's extension: which configured cluster (app-config `stagecoach.kubernetes.clusters[].name`). */
  cluster: z.string().min(1).optional(),
};

/** Kargo's oneOf: an app is named, or selected, never both. */
export function nameOrSelector<T extends z.ZodType<{ name?: string; selector?: unknown }>>(schema: T): z.ZodEffects<T> {
  return schema.superRefine((a, ctx) => {
    if (!a.name && !a.selector) ctx.addIssue({ code: 'custom', path: ['name'], message: 'set one of name and selector' });
    if (a.name && a.selector) ctx.addIssue({ code: 'custom', path: ['selector'], message: 'set name or selector, not both' });
  });
}

/**
 * Runs Kubernetes work the way the step's retry policy expects: an unreachable or failing
 * API is a plain Error (it counts against `retry.errorThreshold`, and the next attempt may
 * succeed), a cluster name that is not configured is a StepConfigError (fails at once).
 */
export async function reportingKubeErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof UnknownClusterError) throw new StepConfigError(`cluster: ${e.message}`);
    if (e instanceof KubeApiError) throw new Error(e.message);
    throw e;
  }
}

/**
 * A signal that aborts after `ms`, when `signal` aborts, or when done() is called (which
 * also ends whatever still listens to it).
 */
export function linkedTimeout(signal: AbortSignal, ms: number): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(), Math.max(0, ms));
  if (signal.aborted) controller.abort();
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      controller.abort();
    },
  };
}
