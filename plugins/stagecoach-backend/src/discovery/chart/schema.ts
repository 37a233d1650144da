import { z } from 'zod';

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
    semverConstraint: z.string().optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
  })
  .strict()
  .refine(s => s.repoURL.startsWith('oci://') || !!s.name, {
    message: 'a chart from an http(s) repository needs name',
    path: ['name'],
  });

export type ChartSubscription = z.infer<typeof chartSubscriptionSchema>;
