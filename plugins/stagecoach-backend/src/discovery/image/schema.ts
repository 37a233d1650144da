import { z } from 'zod';
import { regexString } from '../../manifests/schemas';

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
    insecureSkipTLSVerify: z.boolean().optional(),
  })
  .strict()
  .refine(s => s.imageSelectionStrategy !== 'Digest' || !!s.constraint, {
    message:
      'imageSelectionStrategy Digest needs constraint: the tag to follow',
    path: ['constraint'],
  });

export type ImageSubscription = z.infer<typeof imageSubscriptionSchema>;
