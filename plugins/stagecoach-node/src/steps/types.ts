import type { z } from 'zod';
import type {
  Chart,
  GitCommit,
  Image,
} from '@stagecoach/plugin-stagecoach-common';
import type {
  StagecoachHttpRequest,
  StagecoachHttpResponse,
  StagecoachLogger,
} from '../shared';

/**
 * Where a step writes what it has to say; the promotion's log.
 *
 * @public
 */
export type PromotionStepLogger = StagecoachLogger;

/**
 * The freight being promoted, as plain data.
 *
 * @public
 */
export interface PromotionStepFreight {
  /** The content-addressed ID. */
  id: string;
  /** The human alias, such as `brave-otter`. */
  alias: string;
  /** The warehouse the freight comes from (its origin). */
  warehouse: string;
  /** The artifact versions the freight bundles. */
  artifacts: {
    commits: readonly GitCommit[];
    images: readonly Image[];
    charts: readonly Chart[];
  };
  /** When the freight was created (ISO-8601). */
  createdAt: string;
}

/**
 * One HTTP request from a step, under the egress policy.
 *
 * @public
 */
export type PromotionStepHttpRequest = StagecoachHttpRequest;

/**
 * The answer to a PromotionStepHttpRequest, read in full.
 *
 * @public
 */
export type PromotionStepHttpResponse = StagecoachHttpResponse;

/**
 * What a promotion step added by a backend module is given when it runs. It holds what a
 * step outside the Stagecoach backend may use safely; credentials, clusters and the clone
 * store stay with the built-in steps.
 *
 * @public
 */
export interface PromotionStepContext {
  /** The promotion's own directory. Resolve paths from config with `resolvePath`. */
  workDir: string;
  project: string;
  stage: string;
  promotionId: string;
  /** The freight being promoted. */
  freight: PromotionStepFreight;
  /** The step's alias (`as`, or `step-<n>`; `task::step` inside a PromotionTask). */
  alias: string;
  logger: PromotionStepLogger;
  /** Outputs of the steps that ran before this one, by alias. */
  outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Aborted when the promotion is aborted or the backend shuts down: pass it on to what the step waits for. */
  signal: AbortSignal;
  /**
   * What this step returned as `state` the last time it answered `Running`; undefined on its
   * first run.
   */
  state?: Readonly<Record<string, unknown>>;
  /** Who started the promotion (a user, a CI token, or auto-promotion). */
  actor?: string;
  /**
   * A path from the step's config, resolved inside the work directory. It throws a
   * StepConfigError naming `field` when the path is absolute, climbs out of the work
   * directory, leads out of it through a symbolic link, or is in git's own files (`.git`).
   */
  resolvePath(
    given: string,
    options?: {
      /** The config field the path came from, for messages (default `path`). */
      field?: string;
      /** The step writes there (messages say so). */
      writes?: boolean;
    },
  ): Promise<string>;
  /**
   * Sends an HTTP request through the egress policy. A request the policy refuses throws a
   * StepConfigError (the step fails at once); a network failure or timeout throws an Error
   * whose message names the request but never its header values.
   */
  request(
    request: PromotionStepHttpRequest,
  ): Promise<PromotionStepHttpResponse>;
}

/**
 * What a step's run ends with.
 *
 * @public
 */
export interface PromotionStepResult {
  /**
   * `Running`: not done yet; the promotion is put aside and this step runs again after
   * `retryAfterMs`, on any backend replica, with `state` handed back as `ctx.state`.
   */
  status: 'Succeeded' | 'Failed' | 'Running';
  message?: string;
  /** Addressable by later steps as `outputs.<alias>.<name>` (JSON). */
  outputs?: Record<string, unknown>;
  /** Running only: when to look again (default 30 s, at least 1 s). */
  retryAfterMs?: number;
  /** Running only: handed back to the next run of this step as `ctx.state` (JSON). */
  state?: Record<string, unknown>;
}

/**
 * A promotion step: the name a manifest `uses`, its configuration's schema and what it does.
 * The schema is checked when manifests are applied (a problem is a 400 naming the field;
 * values that are `${{ }}` expressions are checked when the promotion runs) and again, on the
 * evaluated config, before `run`.
 *
 * @public
 */
export interface PromotionStep<Config = any> {
  /** What manifests write in `uses`: lower-case words with `-` or `.` between them. */
  name: string;
  description: string;
  schema: z.ZodType<Config, z.ZodTypeDef, unknown>;
  /**
   * How long the step may keep answering `Running` before it fails (a step's `retry.timeout`
   * overrides it). Undefined: no limit.
   */
  defaultTimeoutMs?: number;
  /**
   * Throw StepConfigError (or return Failed) for a problem retrying cannot fix: the step fails
   * at once. Any other error counts against the step's `retry.errorThreshold`.
   */
  run(ctx: PromotionStepContext, config: Config): Promise<PromotionStepResult>;
}

/**
 * Returns the step as given; it lets TypeScript infer `Config` from the schema.
 *
 * @public
 */
export function createPromotionStep<Config>(
  step: PromotionStep<Config>,
): PromotionStep<Config> {
  return step;
}
