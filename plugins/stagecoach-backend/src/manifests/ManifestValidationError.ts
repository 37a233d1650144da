import { InputError } from '@backstage/errors';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';

export function formatProblem(p: ManifestProblem): string {
  const where = `document ${p.document}${p.resource ? ` (${p.resource})` : ''}`;
  return p.path ? `${where}, ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** Every problem found in a set of manifests; nothing was applied. */
export class ManifestValidationError extends InputError {
  readonly problems: ManifestProblem[];

  constructor(problems: ManifestProblem[]) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    const lines = problems.map(p => `  - ${formatProblem(p)}`).join('\n');
    super(`${count} in the manifests, nothing was applied:\n${lines}`);
    this.problems = problems;
  }
}
