import type { z } from 'zod';

/** A zod issue in the words the API uses for manifest and step-config problems. */
export function describeIssue(issue: z.ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(k => `"${k}"`).join(', ')}`;
  }
  return issue.message === 'Required' ? 'is required' : issue.message;
}
