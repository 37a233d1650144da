import type { z } from 'zod';
import { describeIssue } from './describeIssue';

/** A problem inside one document: a path from the document's root (empty: the whole document) and what is wrong. */
export interface DocumentProblem {
  path: string;
  message: string;
}

/** Formats a zod issue path as `spec.subscriptions[0].git.repoURL`. */
export function formatPath(prefix: string, path: (string | number)[]): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** A zod error's issues as problems, their paths under `prefix` (`spec`, or '' for the header). */
export function zodProblems(
  prefix: string,
  error: z.ZodError,
): DocumentProblem[] {
  return error.issues.map(issue => ({
    path: formatPath(prefix, issue.path),
    message: describeIssue(issue),
  }));
}
