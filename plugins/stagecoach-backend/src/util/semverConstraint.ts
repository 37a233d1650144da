import semver from 'semver';
import { z } from 'zod';

/**
 * Semver constraints as Kargo writes them (its Go library's syntax) read by the `semver`
 * package: the same operators (`^1.2`, `~1.2.3`, `>=1.0 <2`, `1.2.x`, `1.0 - 2.0`, `||`),
 * and a comma between comparators meaning "and", as a space does here.
 */
function toRange(constraint: string): string {
  return constraint.replace(/\s*,\s*/g, ' ').trim();
}

/** The constraint as a range, or null when it is not one (`>>1.0`). */
export function parseSemverConstraint(constraint: string): semver.Range | null {
  try {
    return new semver.Range(toRange(constraint));
  } catch {
    return null;
  }
}

/** The constraint as a range; an Error naming the field when it is not one. */
export function semverRangeOf(constraint: string, field: string): semver.Range {
  const range = parseSemverConstraint(constraint);
  if (!range) throw new Error(constraintProblem(constraint, field));
  return range;
}

function constraintProblem(constraint: string, field: string): string {
  return `${field} "${constraint}" is not a semver constraint (such as ^1.2.0, ~1.4, >=1.0 <2 or >=1.0, <2)`;
}

/** A manifest field holding a semver constraint: refused when applied if it is not one. */
export function semverConstraintField(field: string) {
  return z.string().superRefine((s, ctx) => {
    if (!parseSemverConstraint(s)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: constraintProblem(s, field) });
  });
}
