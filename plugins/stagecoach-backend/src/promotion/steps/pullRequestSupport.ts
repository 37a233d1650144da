import { z } from 'zod';
import {
  connectScmProvider,
  PullRequest,
  ScmApiError,
  ScmConfigError,
  ScmProvider,
  StepProviderName,
} from '../../integrations/scm';
import { parseDuration } from '../../util/duration';
import { StepConfigError } from '../workDir';
import type { StepContext, StepResult } from './types';

/** What the pull-request steps share: how they find the host, read old outputs and report errors. */

const PROVIDERS = ['github', 'gitlab', 'gitea', 'bitbucket'] as const;

/** Kargo's `provider`; `azure` is Kargo's too, but Stagecoach cannot talk to Azure DevOps yet. */
export const providerSchema = z
  .string()
  .superRefine((p, issue) => {
    if (p === 'azure') {
      issue.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'azure (Azure DevOps) pull requests are not supported yet; use github, gitlab, gitea or bitbucket',
      });
    } else if (!(PROVIDERS as readonly string[]).includes(p)) {
      issue.addIssue({ code: z.ZodIssueCode.custom, message: `must be one of ${PROVIDERS.join(', ')}` });
    }
  })
  .transform(p => p as StepProviderName);

/** The repository; SSH forms are understood for finding the host's API. */
export const repoURLSchema = z.string().min(1, 'must be the URL of a Git repository');

/** The fields every pull-request step has for reaching the repository's host (what `connect` takes). */
export const connectionFields = {
  repoURL: repoURLSchema,
  provider: providerSchema.optional(),
  insecureSkipTLSVerify: z.boolean().default(false),
};

/**
 * The schema, requiring exactly one of a field and the older `*FromStep` field that stands in
 * for it; the complaint is filed under the field.
 */
export function oneOfFieldAndFromStep<T extends z.AnyZodObject>(
  schema: T,
  field: keyof z.infer<T> & string,
  fromStep: keyof z.infer<T> & string,
): z.ZodEffects<T> {
  return schema.refine((c: Record<string, unknown>) => (c[field] === undefined) !== (c[fromStep] === undefined), {
    message: `set one of ${field} and ${fromStep}`,
    path: [field],
  });
}

/** A pull request number; expressions may hand it over as a string. */
export const prNumberSchema = z.preprocess(
  v => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z
    .number({ invalid_type_error: 'must be a pull request number' })
    .int('must be a pull request number')
    .min(1, 'must be a pull request number (1 or more)'),
);

/** A Go-style duration (`30s`, `5m`), as Kargo writes them. */
export const pollIntervalSchema = z.string().refine(s => {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a duration such as "30s", "5m" or "1h"');

const MIN_POLL_MS = 1_000;

export function pollIntervalMs(text: string | undefined, defaultMs: number): number {
  return text === undefined ? defaultMs : Math.max(MIN_POLL_MS, parseDuration(text));
}

export async function connect(
  ctx: StepContext,
  config: { repoURL: string; provider?: StepProviderName; insecureSkipTLSVerify?: boolean },
): Promise<ScmProvider> {
  return connectScmProvider({
    repoURL: config.repoURL,
    provider: config.provider,
    credentials: ctx.credentials,
    egress: ctx.egress,
    signal: ctx.signal,
    insecureSkipTLSVerify: config.insecureSkipTLSVerify,
  });
}

/**
 * Runs a step's work, turning what the host said into results: problems the configuration
 * must fix (bad credentials, no such repository) fail the step at once with the host's
 * message; an unreachable or overloaded host throws, so the step's retry policy applies.
 */
export async function reportingScmErrors(work: () => Promise<StepResult>): Promise<StepResult> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ScmConfigError) throw new StepConfigError(e.message);
    if (e instanceof ScmApiError && !e.retryable) return { status: 'Failed', message: e.message };
    throw e;
  }
}

/**
 * A value from the outputs of an earlier step, for the `*FromStep` fields older manifests
 * use. The field is named in every complaint.
 */
export function outputOfStep(ctx: StepContext, field: string, alias: string, keys: string[][]): unknown {
  const outputs = ctx.outputs[alias];
  if (!outputs) {
    const known = Object.keys(ctx.outputs);
    throw new StepConfigError(
      `${field}: no step with alias "${alias}" ran before this one${known.length ? ` (earlier steps: ${known.join(', ')})` : ''}`,
    );
  }
  for (const path of keys) {
    let cur: unknown = outputs;
    for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
    if (cur !== undefined && cur !== null && cur !== '') return cur;
  }
  throw new StepConfigError(`${field}: step "${alias}" has no ${keys.map(k => k.join('.')).join(' or ')} output`);
}

/** A pull request as the steps output it (Kargo's shape). */
export function prOutput(pr: PullRequest, withState = false): Record<string, unknown> {
  return withState ? { id: pr.number, url: pr.url, open: pr.open, merged: pr.merged } : { id: pr.number, url: pr.url };
}

/** A merged pull request's outputs: the pull request, and its merge commit when the host names one. */
export function mergedOutputs(pr: PullRequest): Record<string, unknown> {
  const outputs: Record<string, unknown> = { pr: prOutput(pr, true) };
  if (pr.mergeCommit) outputs.commit = pr.mergeCommit;
  return outputs;
}

/** ` as abc1234` for messages, or nothing when the host named no merge commit. */
export function mergeCommitNote(pr: PullRequest): string {
  return pr.mergeCommit ? ` as ${pr.mergeCommit.slice(0, 7)}` : '';
}

/** `#12` on most hosts; GitLab calls them merge requests, numbered `!12`. */
export function prName(provider: ScmProvider, number: number): string {
  return provider.kind === 'gitlab' ? `merge request !${number}` : `pull request #${number}`;
}
