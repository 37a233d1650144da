import type { StoredFreight } from '../store/FreightStore';
import { normalizeGitURL } from '../discovery/freightIdentity';
import { ExpressionEnv, ExpressionError, ExprFunction } from './expressions';

export interface PromotionEnvInput {
  project: string;
  stage: string;
  promotionId: string;
  actor?: string;
  freight: StoredFreight;
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** The names and functions that `${{ }}` expressions in a promotion's steps can use. */
export function promotionEnv(input: PromotionEnvInput): ExpressionEnv {
  const { freight } = input;
  const commitFrom: ExprFunction = repoURL => {
    if (typeof repoURL !== 'string') throw new ExpressionError('commitFrom(repoURL) needs a repository URL');
    const want = normalizeGitURL(repoURL);
    const found = freight.artifacts.commits.find(c => normalizeGitURL(c.repoURL) === want);
    if (!found) {
      throw new ExpressionError(
        `freight ${freight.alias} has no commit from ${repoURL} (it has: ${
          freight.artifacts.commits.map(c => c.repoURL).join(', ') || 'no commits'
        })`,
      );
    }
    return found;
  };
  const imageFrom: ExprFunction = repoURL => {
    const found = freight.artifacts.images.find(i => i.repoURL === repoURL);
    if (!found) throw new ExpressionError(`freight ${freight.alias} has no image from ${String(repoURL)}`);
    return found;
  };
  const chartFrom: ExprFunction = (repoURL, name) => {
    const found = freight.artifacts.charts.find(
      c => c.repoURL === repoURL && (name === undefined || c.name === name),
    );
    if (!found) {
      throw new ExpressionError(
        `freight ${freight.alias} has no chart from ${String(repoURL)}${name ? ` named ${String(name)}` : ''}`,
      );
    }
    return found;
  };
  return {
    values: {
      ctx: {
        project: input.project,
        stage: input.stage,
        promotion: input.promotionId,
        targetFreight: { name: freight.id, alias: freight.alias, origin: { name: freight.warehouse } },
        meta: { promotion: { actor: input.actor ?? '' } },
      },
      vars: input.vars,
      outputs: input.outputs,
    },
    functions: {
      commitFrom,
      imageFrom,
      chartFrom,
      warehouse: name => ({ kind: 'Warehouse', name }),
      quote: v => (typeof v === 'string' ? v : JSON.stringify(v)),
    },
  };
}
