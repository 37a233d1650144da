import type { z } from 'zod';
import type { Measurement } from '@stagecoach/plugin-stagecoach-common';
import type {
  StagecoachHttpRequest,
  StagecoachHttpResponse,
  StagecoachLogger,
} from '../shared';

/**
 * One measurement of a metric, as a verification keeps and shows it (the REST API's
 * `Measurement`): `phase` (`Running`, `Successful`, `Failed`, `Error` or `Inconclusive`),
 * `value` (the measured result as text), `message`, `startedAt`, `finishedAt` (ISO-8601) and
 * `metadata` (text by name; kept with a Running measurement and handed back to `resume`).
 *
 * @public
 */
export type VerificationMeasurement = Measurement;

/**
 * A metric of an AnalysisTemplate as a verification runs it: the stage's args substituted
 * (`{{args.name}}`), defaults applied, and the provider's own config parsed by its schema.
 *
 * @public
 */
export interface VerificationProviderMetric<Config = unknown> {
  name: string;
  /** Measurements to take. */
  count: number;
  /** Go duration between measurements (`30s`), when more than one is taken. */
  interval?: string;
  initialDelay?: string;
  successCondition?: string;
  failureCondition?: string;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  /** Measured and shown, but does not decide the verification. */
  dryRun?: boolean;
  /** The metric's `provider.<name>`, parsed by the provider's schema. */
  config: Config;
}

/**
 * What a verification provider added by a backend module is given for one measurement. It
 * holds what code outside the Stagecoach backend may use safely; the credentials of app-config
 * (`stagecoach.verification.credentials`) and the Kubernetes clusters stay with the built-in
 * providers.
 *
 * @public
 */
export interface VerificationProviderContext {
  project: string;
  stage: string;
  verificationId: string;
  /** Which measurement of the metric this is, from 1. */
  measurement: number;
  logger: StagecoachLogger;
  /**
   * Aborted when the measurement has run for 60 seconds or the backend shuts down: pass it on
   * to what the provider waits for. A longer measurement answers `Running` and is resumed.
   */
  signal: AbortSignal;
  /** The verification's clock: use it for timestamps. */
  now(): Date;
  /**
   * Sends an HTTP request through the egress policy (app-config `stagecoach.egress`). A
   * request the policy refuses, a network failure or a timeout throws an Error whose message
   * names the request but never its header values.
   */
  request(request: StagecoachHttpRequest): Promise<StagecoachHttpResponse>;
  /**
   * A finished measurement of `result`, judged as the built-in web and prometheus metrics are
   * judged: its value kept as text (JSON) and its phase from the metric's `successCondition`
   * and `failureCondition` (Rollouts' rules; `result` is the value they read). A result larger
   * than a measurement may keep (`stagecoach.verification.maxResultBytes`) is an Error.
   */
  measured(
    result: unknown,
    options?: {
      /** Shown with the measurement: what was measured, such as the URL. Never secrets. */
      metadata?: Record<string, string>;
    },
  ): VerificationMeasurement;
}

/**
 * A verification provider: the key an AnalysisTemplate metric names under `provider` (as
 * Argo Rollouts has `web`, `prometheus`, `job`), its configuration's schema and how it
 * measures. The schema is checked when manifests are applied (a problem is a 400 naming the
 * field; a field holding an `{{args.x}}` placeholder is checked once the verification knows
 * its value) and again, with the args substituted, before each measurement.
 *
 * @public
 */
export interface VerificationProvider<Config = any> {
  /** What a metric writes under `provider`: a lower camel-case word, such as `statuspage`. */
  name: string;
  description: string;
  schema: z.ZodType<Config, z.ZodTypeDef, unknown>;
  /**
   * Takes a measurement. A quick one returns it finished (`ctx.measured(result)`); a long
   * one returns it `Running` with `metadata` saying what to look at, and is asked again through
   * `resume` every few seconds, on any backend replica. A thrown error makes the measurement
   * an Error with its message (it is retried; `consecutiveErrorLimit` bounds how often).
   */
  run(
    ctx: VerificationProviderContext,
    metric: VerificationProviderMetric<Config>,
  ): Promise<VerificationMeasurement>;
  /** Looks again at a measurement this provider left Running. */
  resume?(
    ctx: VerificationProviderContext,
    metric: VerificationProviderMetric<Config>,
    measurement: VerificationMeasurement,
  ): Promise<VerificationMeasurement>;
  /**
   * Stops a measurement left Running (the verification was aborted or decided): release what
   * it holds. A measurement returned Failed or Error is kept as it is; any other answer (or
   * none) ends it as an Error that says it was stopped.
   */
  terminate?(
    ctx: VerificationProviderContext,
    metric: VerificationProviderMetric<Config>,
    measurement: VerificationMeasurement,
  ): Promise<VerificationMeasurement | void>;
}

/**
 * Returns the provider as given; it lets TypeScript infer `Config` from the schema.
 *
 * @public
 */
export function createVerificationProvider<Config>(
  provider: VerificationProvider<Config>,
): VerificationProvider<Config> {
  return provider;
}
