import { z } from 'zod';
import { semverConstraintField } from '../../util/semverConstraint';

/** A Warehouse's `chart` subscription, as Kargo writes it. */
export const chartSubscriptionSchema = z
  .object({
    /** An http(s) chart repository (with `name`) or an `oci://` chart reference. */
    repoURL: z
      .string()
      .regex(
        /^(https?|oci):\/\/\S+$/,
        'must be an http(s) chart repository or an oci:// chart',
      ),
    name: z.string().min(1).optional(),
    semverConstraint: semverConstraintField('semverConstraint').optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
    /**
     * Not in Kargo's chart subscriptions (its image and git ones have it): TLS checks off for
     * this repository's index.yaml, or this oci:// chart's registry, for this subscription only.
     */
    insecureSkipTLSVerify: z.boolean().optional(),
  })
  .strict()
  .refine(s => s.repoURL.startsWith('oci://') || !!s.name, {
    message: 'a chart from an http(s) repository needs name',
    path: ['name'],
  });

export type ChartSubscription = z.infer<typeof chartSubscriptionSchema>;
