import { z } from 'zod';
import { deprecatedTagFields } from '../../manifests/refusedField';
import { regexString } from '../../manifests/schemas';
import { parseSemverConstraint } from '../../util/semverConstraint';

/** A Warehouse's `image` subscription, as Kargo writes it. */
export const imageSubscriptionSchema = z
  .object({
    /** `nginx`, `library/nginx`, `ghcr.io/acme/api`, `registry.example.com:5000/team/app` */
    repoURL: z
      .string()
      .min(1)
      .regex(
        /^[a-z0-9]+([._:/-][a-zA-Z0-9]+)*$/,
        'must be an image repository such as ghcr.io/acme/api (no tag, no scheme)',
      ),
    imageSelectionStrategy: z
      .enum(['SemVer', 'Lexical', 'NewestBuild', 'Digest'], {
        errorMap: () => ({
          message: 'must be one of SemVer, Lexical, NewestBuild, Digest',
        }),
      })
      .default('SemVer'),
    /** A semver range for SemVer; the mutable tag to follow for Digest. */
    constraint: z.string().optional(),
    strictSemvers: z.boolean().default(true),
    allowTagsRegexes: z.array(regexString).optional(),
    ignoreTagsRegexes: z.array(regexString).optional(),
    /** `os/arch[/variant]`, e.g. linux/amd64, for multi-arch images. */
    platform: z
      .string()
      .regex(
        /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/,
        'must be os/arch or os/arch/variant, such as linux/amd64',
      )
      .optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
    /** TLS checks off for this registry, for this subscription's requests only. */
    insecureSkipTLSVerify: z.boolean().optional(),
    /**
     * Tags are immutable: once resolved to a digest, a tag is not asked about again (the
     * Digest strategy, which follows a mutable tag, never caches).
     */
    cacheByTag: z.boolean().optional(),
    ...deprecatedTagFields,
    /**
     * Kargo's older name for constraint, deprecated there but still in its quickstart: read as
     * constraint.
     */
    semverConstraint: z.string().optional(),
    /**
     * Kargo v1.0–v1.6: the repository of the image's source, which Kargo's UI linked to; Kargo
     * v1.7 dropped it (Kubernetes prunes it from older manifests). Accepted and dropped here too.
     */
    gitRepoURL: z.string().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.semverConstraint !== undefined && s.constraint !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['semverConstraint'],
        message: 'is the older name of constraint: write one of them, not both',
      });
    }
    for (const field of ['constraint', 'semverConstraint'] as const) {
      const range = s[field];
      if (s.imageSelectionStrategy === 'SemVer' && range && !parseSemverConstraint(range)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [field],
          message: `${field} "${range}" is not a semver constraint (such as ^1.2.0, ~1.4, >=1.0 <2 or >=1.0, <2), which the SemVer strategy needs`,
        });
      }
    }
  })
  .transform(({ semverConstraint, gitRepoURL: _dropped, ...s }) =>
    semverConstraint === undefined ? s : { ...s, constraint: semverConstraint },
  )
  .refine(s => s.imageSelectionStrategy !== 'Digest' || !!s.constraint, {
    message:
      'imageSelectionStrategy Digest needs constraint: the tag to follow',
    path: ['constraint'],
  });

export type ImageSubscription = z.infer<typeof imageSubscriptionSchema>;
