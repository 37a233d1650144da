import { z } from 'zod';
import { httpURL } from '../../integrations/http/requestFields';
import { regexString } from '../../manifests/schemas';
import { pathSelectorProblem } from '../../util/pathSelectors';

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
    semverConstraint: z.string().optional(),
    strictSemvers: z.boolean().default(true),
    allowTagsRegexes: z.array(regexString).optional(),
    ignoreTagsRegexes: z.array(regexString).optional(),
    includePaths: z.array(pathSelector).optional(),
    excludePaths: z.array(pathSelector).optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
  })
  .strict();

export type GitSubscription = z.infer<typeof gitSubscriptionSchema>;
