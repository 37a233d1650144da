import { evaluate, unwrapExpression } from '../../expressions/expressions';
import { ExprTime } from '../../expressions/values';
import { valueFunctions } from '../../expressions/valueFunctions';
import type { GitSubscription } from './schema';

/** What `expressionFilter` sees of a commit of a branch (NewestFromBranch). */
export interface CommitFacts {
  id: string;
  /** The committer date, RFC 3339 in UTC (a time to expressions, as in Kargo: `commitDate > date("2026-01-01")`). */
  commitDate: string;
  /** `Name <email>` */
  author: string;
  committer: string;
  /** The first line of the message. */
  subject: string;
}

/** What `expressionFilter` sees of a tag (SemVer, Lexical, NewestTag). */
export interface TagFacts {
  tag: string;
  /** The tagged commit. */
  id: string;
  /** An annotated tag's date, a lightweight tag's commit date: RFC 3339 in UTC (a time to expressions). */
  creatorDate: string;
  author: string;
  committer: string;
  subject: string;
  /** `Name <email>` of an annotated tag's tagger; empty for a lightweight tag. */
  tagger: string;
  /** The first line of an annotated tag's message; empty for a lightweight tag. */
  annotation: string;
}

/**
 * The subscription's `since` and `expressionFilter` as one test of a commit or a tag, or
 * undefined when it has neither. `since` compares the commit date (commits) or the creator
 * date (tags). The expression runs on the backend's evaluator (no code of the manifest's
 * runs); it must answer true or false, and one that fails fails the discovery, naming the
 * commit or tag.
 */
export function metadataFilter<F extends CommitFacts | TagFacts>(
  sub: Pick<GitSubscription, 'since' | 'expressionFilter'>,
): ((facts: F) => boolean) | undefined {
  if (!sub.since && !sub.expressionFilter) return undefined;
  const since = sub.since ? Date.parse(sub.since) : undefined;
  const expression = sub.expressionFilter ? unwrapExpression(sub.expressionFilter) : undefined;
  return facts => {
    if (since !== undefined && Date.parse(dateOf(facts)) < since) return false;
    if (expression === undefined) return true;
    const what = 'tag' in facts ? `tag "${facts.tag}"` : `commit ${facts.id}`;
    let result: unknown;
    try {
      result = evaluate(expression, { values: valuesOf(facts), functions: valueFunctions });
    } catch (e) {
      throw new Error(`expressionFilter failed on ${what}: ${(e as Error).message}`);
    }
    if (typeof result !== 'boolean') {
      throw new Error(`expressionFilter must be true or false, but on ${what} it is ${JSON.stringify(result) ?? 'undefined'}`);
    }
    return result;
  };
}

/** True when the commit is older than `since`: first-parent history (newest first) can stop there. */
export function olderThanSince(sub: Pick<GitSubscription, 'since'>, commitDate: string): boolean {
  return !!sub.since && Date.parse(commitDate) < Date.parse(sub.since);
}

/** The facts as expressions see them: dates are times, compared with date(...) and now(). */
function valuesOf(facts: CommitFacts | TagFacts): Record<string, unknown> {
  const values: Record<string, unknown> = { ...facts };
  for (const key of ['commitDate', 'creatorDate'] as const) {
    if (key in facts) values[key] = new ExprTime(Date.parse((facts as unknown as Record<string, string>)[key]));
  }
  return values;
}

function dateOf(facts: CommitFacts | TagFacts): string {
  return 'creatorDate' in facts ? facts.creatorDate : facts.commitDate;
}
