import type {
  Chart,
  GitCommit,
  Image,
} from '@stagecoach/plugin-stagecoach-common';
import { normalizeGitURL } from '../util/gitUrl';
import { ExpressionError, ExprFunction } from './expressions';

/**
 * The artifacts `commitFrom`, `imageFrom` and `chartFrom` look in: a stored freight's, or the
 * candidates a warehouse's freight creation criteria judge. Only what the functions read.
 */
export interface ArtifactSet {
  commits: readonly GitCommit[];
  images: readonly Image[];
  charts: readonly Chart[];
}

/**
 * `commitFrom`, `imageFrom` and `chartFrom` over one set of artifacts. `owner` names the set
 * in errors: `freight brave-otter`, `the candidate freight`.
 */
export function artifactFunctions(
  artifacts: ArtifactSet,
  owner: string,
): Record<string, ExprFunction> {
  const commitFrom: ExprFunction = repoURL => {
    if (typeof repoURL !== 'string')
      throw new ExpressionError('commitFrom(repoURL) needs a repository URL');
    const want = normalizeGitURL(repoURL);
    const found = artifacts.commits.find(
      c => normalizeGitURL(c.repoURL) === want,
    );
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
    if (!found)
      throw new ExpressionError(
        `${owner} has no image from ${String(repoURL)}`,
      );
    return found;
  };
  const chartFrom: ExprFunction = (repoURL, name) => {
    const found = artifacts.charts.find(
      c => c.repoURL === repoURL && (name === undefined || c.name === name),
    );
    if (!found) {
      throw new ExpressionError(
        `${owner} has no chart from ${String(repoURL)}${
          name ? ` named ${String(name)}` : ''
        }`,
      );
    }
    return found;
  };
  return { commitFrom, imageFrom, chartFrom };
}
