import type { StoredFreight } from '../store/FreightStore';
import { FreightArtifacts, normalizeGitURL } from '../discovery/freightIdentity';
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

/**
 * `commitFrom`, `imageFrom` and `chartFrom` over one set of artifacts. `owner` names the set
 * in errors: `freight brave-otter`, `the candidate freight`.
 */
export function artifactFunctions(artifacts: FreightArtifacts, owner: string): Record<string, ExprFunction> {
  const commitFrom: ExprFunction = repoURL => {
    if (typeof repoURL !== 'string') throw new ExpressionError('commitFrom(repoURL) needs a repository URL');
    const want = normalizeGitURL(repoURL);
    const found = artifacts.commits.find(c => normalizeGitURL(c.repoURL) === want);
    if (!found) {
      throw new ExpressionError(
        `${owner} has no commit from ${repoURL} (it has: ${
          artifacts.commits.map(c => c.repoURL).join(', ') || 'no commits'
        })`,
      );
    }
    return found;
  };
  const imageFrom: ExprFunction = repoURL => {
    const found = artifacts.images.find(i => i.repoURL === repoURL);
    if (!found) throw new ExpressionError(`${owner} has no image from ${String(repoURL)}`);
    return found;
  };
  const chartFrom: ExprFunction = (repoURL, name) => {
    const found = artifacts.charts.find(c => c.repoURL === repoURL && (name === undefined || c.name === name));
    if (!found) {
      throw new ExpressionError(`${owner} has no chart from ${String(repoURL)}${name ? ` named ${String(name)}` : ''}`);
    }
    return found;
  };
  return { commitFrom, imageFrom, chartFrom };
}

/** The names and functions that `${{ }}` expressions in a promotion's steps can use. */
export function promotionEnv(input: PromotionEnvInput): ExpressionEnv {
  const { freight } = input;
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
      ...artifactFunctions(freight.artifacts, `freight ${freight.alias}`),
      warehouse: name => ({ kind: 'Warehouse', name }),
      quote: v => (typeof v === 'string' ? v : JSON.stringify(v)),
    },
  };
}
