import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PromotionPhase } from '@stagecoach/plugin-stagecoach-common';
import { DEFAULT_GIT_IDENTITY, GitIdentity } from '../integrations/git/GitCli';
import type { Var } from '../manifests/schemas';
import { FreightStore } from '../store/FreightStore';
import { ClaimedPromotion, PromotionStore, stepAlias } from '../store/PromotionStore';
import { redactSecrets } from '../util/secrets';
import { Clock, Logger } from '../util/types';
import { evaluate, evaluateTemplate, ExpressionEnv } from './expressions';
import { promotionEnv } from './promotionEnv';
import { builtinSteps } from './steps';
import { StepContext, StepDefinition } from './steps/types';
import { noScmCredentials, ScmCredentials } from '../integrations/scm/ScmCredentials';
import { formatPath } from '../manifests/parseManifests';
import { describeIssue } from '../manifests/describeIssue';

export interface PromotionRunnerOptions {
  promotions: PromotionStore;
  freight: FreightStore;
  clock: Clock;
  logger: Logger;
  /** Parent folder of the per-promotion work directories (default: the OS temp folder). */
  workRoot?: string;
  gitIdentity?: GitIdentity;
  steps?: ReadonlyMap<string, StepDefinition>;
  credentials?: ScmCredentials;
  fetch?: typeof fetch;
}

/** Thrown for a step whose configuration cannot be used: the promotion fails with the reason. */
class StepFailure extends Error {}

/** Runs one claimed promotion's steps, in a work directory that is always removed afterwards. */
export class PromotionRunner {
  private readonly steps: ReadonlyMap<string, StepDefinition>;

  constructor(private readonly options: PromotionRunnerOptions) {
    this.steps = options.steps ?? builtinSteps;
  }

  async run(p: ClaimedPromotion): Promise<PromotionPhase> {
    const { promotions, clock, logger } = this.options;
    const now = () => clock.now().toISOString();
    const workRoot = this.options.workRoot ?? os.tmpdir();
    await fs.mkdir(workRoot, { recursive: true });
    const workDir = await fs.mkdtemp(path.join(workRoot, 'promotion-'));
    let phase: Exclude<PromotionPhase, 'Pending' | 'Running'> = 'Succeeded';
    let message: string | undefined;
    try {
      const freight = await this.options.freight.get(p.project, p.freightId);
      const outputs: Record<string, unknown> = {};
      const baseVars = resolveVars(p.vars, {}, this.envFor(p, freight, {}, outputs));

      for (let idx = 0; idx < p.steps.length; idx++) {
        const step = p.steps[idx];
        const alias = stepAlias(step, idx);
        const startedAt = now();
        await promotions.updateStep(p.id, idx, { status: 'Running', startedAt });
        try {
          const vars = resolveVars(step.vars ?? [], baseVars, this.envFor(p, freight, baseVars, outputs));
          const env = this.envFor(p, freight, vars, outputs);
          if (step.if !== undefined && !evaluate(step.if.replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, '$1'), env)) {
            await promotions.updateStep(p.id, idx, { status: 'Skipped', message: `skipped: "${step.if}" is false`, finishedAt: now() });
            continue;
          }
          const def = this.steps.get(step.uses);
          if (!def) throw new StepFailure(`unknown step "${step.uses}"`);
          let config: unknown;
          try {
            config = evaluateTemplate(step.config ?? {}, env);
          } catch (e) {
            throw new StepFailure(`step "${alias}": ${(e as Error).message}`);
          }
          const parsed = def.schema.safeParse(config);
          if (!parsed.success) {
            const issues = parsed.error.issues.map(i => `${formatPath('config', i.path)}: ${describeIssue(i)}`);
            throw new StepFailure(`step "${alias}" (${step.uses}): ${issues.join('; ')}`);
          }
          const result = await def.run(
            {
              workDir,
              project: p.project,
              stage: p.stage,
              promotionId: p.id,
              freight,
              alias,
              gitIdentity: this.options.gitIdentity ?? DEFAULT_GIT_IDENTITY,
              logger,
              outputs: outputs as StepContext['outputs'],
              signal: new AbortController().signal,
              credentials: this.options.credentials ?? noScmCredentials,
              metadata: { set: async () => undefined },
              fetch: this.options.fetch ?? globalThis.fetch,
            },
            parsed.data,
          );
          outputs[alias] = result.outputs ?? {};
          await promotions.updateStep(p.id, idx, {
            status: result.status,
            message: result.message ? redactSecrets(result.message) : null,
            outputs: result.outputs ?? {},
            finishedAt: now(),
          });
          if (result.status === 'Failed' && !step.continueOnError) {
            phase = 'Failed';
            message = `step "${alias}" failed${result.message ? `: ${redactSecrets(result.message)}` : ''}`;
            break;
          }
        } catch (e) {
          const text = redactSecrets(e instanceof Error ? e.message : String(e));
          const failed = e instanceof StepFailure;
          await promotions.updateStep(p.id, idx, { status: failed ? 'Failed' : 'Errored', message: text, finishedAt: now() });
          if (step.continueOnError) continue;
          phase = failed ? 'Failed' : 'Errored';
          message = failed ? text : `step "${alias}" (${step.uses}) errored: ${text}`;
          break;
        }
      }
    } catch (e) {
      phase = 'Errored';
      message = redactSecrets(e instanceof Error ? e.message : String(e));
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
    }

    await promotions.finish(p, phase, message, now(), async tx => {
      await this.options.freight.markVerified(p.project, p.freightId, p.stage, now(), tx);
    });
    logger.info(`promotion ${p.id} of ${p.project}/${p.stage}: ${phase}${message ? ` (${message})` : ''}`);
    return phase;
  }

  private envFor(
    p: ClaimedPromotion,
    freight: Awaited<ReturnType<FreightStore['get']>>,
    vars: Record<string, unknown>,
    outputs: Record<string, unknown>,
  ): ExpressionEnv {
    return promotionEnv({
      project: p.project,
      stage: p.stage,
      promotionId: p.id,
      actor: p.createdBy,
      freight,
      vars,
      outputs,
    });
  }
}

/** Evaluates vars in order; each may use the ones before it. */
function resolveVars(
  defs: Var[],
  inherited: Record<string, unknown>,
  env: ExpressionEnv,
): Record<string, unknown> {
  const vars: Record<string, unknown> = { ...inherited };
  for (const v of defs) {
    try {
      vars[v.name] = evaluateTemplate(v.value, { ...env, values: { ...env.values, vars: { ...vars } } });
    } catch (e) {
      throw new StepFailure(`var "${v.name}": ${(e as Error).message}`);
    }
  }
  return vars;
}
