import { z } from 'zod';
import { httpURL } from '../../integrations/http/requestFields';
import { syntaxProblem, unwrapExpression } from '../../expressions/expressions';
import { valueFunctions } from '../../expressions/valueFunctions';
import { deprecatedTagFields } from '../../manifests/refusedField';
import { regexString } from '../../manifests/schemas';
import { pathSelectorProblem } from '../../util/pathSelectors';
import { semverConstraintField } from '../../util/semverConstraint';

/** An includePaths / excludePaths entry: a path, `glob:<pattern>` or `regex:<pattern>`. */
const pathSelector = z.string().superRefine((s, ctx) => {
  const problem = pathSelectorProblem(s);
  if (problem)
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${s}" ${problem}` });
});

/** A Warehouse's `git` subscription, as Kargo writes it. */
export const gitSubscriptionSchema = z
  .object({
    repoURL: httpURL('must be an http(s) URL of a Git repository'),
    /**
     * NewestFromBranch (Kargo's default): the newest commits of `branch`. SemVer, Lexical,
     * NewestTag: tagged commits. Fields that belong to the other kind of strategy (`branch`;
     * the tag fields) are accepted and ignored, as Kargo does.
     */
    commitSelectionStrategy: z
      .enum(['NewestFromBranch', 'SemVer', 'Lexical', 'NewestTag'], {
        errorMap: () => ({
          message:
            'must be NewestFromBranch (the default), SemVer, Lexical or NewestTag',
        }),
      })
      .default('NewestFromBranch'),
    /** NewestFromBranch only; when absent, the branch the remote's HEAD names. */
    branch: z
      .string()
      .max(255, 'must be at most 255 characters')
      .regex(
        /^[a-zA-Z0-9]([a-zA-Z0-9._/-]*[a-zA-Z0-9_-])?$/,
        'must be a branch name such as main or release/1.x (letters, digits, ".", "_", "-" and "/")',
      )
      .optional(),
    /** SemVer only: a range such as ^1.2.0 (Kargo's comma for "and" too); checked when applied. */
    semverConstraint: semverConstraintField('semverConstraint').optional(),
    strictSemvers: z.boolean().default(true),
    allowTagsRegexes: z.array(regexString).optional(),
    ignoreTagsRegexes: z.array(regexString).optional(),
    includePaths: z.array(pathSelector).optional(),
    excludePaths: z.array(pathSelector).optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
    /**
     * An expression over each commit (NewestFromBranch: id, commitDate, author, committer,
     * subject) or tag (the others: tag, id, creatorDate, author, committer, subject, tagger,
     * annotation): only those for which it is true are discovered. Bare or in `${{ }}`.
     */
    expressionFilter: z
      .string()
      .superRefine((text, ctx) => {
        const problem = syntaxProblem(unwrapExpression(text), new Set(Object.keys(valueFunctions)));
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .optional(),
    /** RFC 3339: commits (NewestFromBranch) committed, or tags created, at or after this time only. */
    since: z
      .string()
      .datetime({ offset: true, message: 'must be an RFC 3339 date and time, such as 2026-01-31T00:00:00Z' })
      .optional(),
    /**
     * Accepted for Kargo's manifests: discovery always fetches without file contents (its
     * mirror is blob-less whatever this says), since it reads only commits, tags and trees.
     */
    blobless: z.boolean().optional(),
    /** Git's TLS checks off for this repository only (http.<repoURL>.sslVerify=false). */
    insecureSkipTLSVerify: z.boolean().optional(),
    ...deprecatedTagFields,
  })
  .strict();

export type GitSubscription = z.infer<typeof gitSubscriptionSchema>;
