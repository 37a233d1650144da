import { InputError } from '@backstage/errors';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';

/** Every problem found in a set of manifests; nothing was applied. */
export class ManifestValidationError extends InputError {
  readonly problems: ManifestProblem[];

  constructor(problems: ManifestProblem[]) {
    const lines = problems.map(formatProblem);
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the manifests, nothing was applied:\n` +
        lines.map(l => `  - ${l}`).join('\n'),
    );
    this.problems = problems;
  }
}

export function formatProblem(p: ManifestProblem): string {
  const where = `document ${p.document + 1}${p.resource ? ` (${p.resource})` : ''}`;
  return p.path ? `${where}, ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}
