import { z } from 'zod';
import { deepLinkSchema, PROMOTION_WINDOWS_REFUSAL } from './projectConfig';

/**
 * Kargo's ClusterConfig (`kind: ClusterConfig`, cluster-wide, named `cluster`): settings of
 * every project. Stagecoach acts on `gitClient` (who commits, over app-config's
 * `stagecoach.gitClient`) and keeps `freightLinks` / `stageLinks` for every project's views.
 * What Stagecoach cannot honour is refused with the reason, rather than accepted and ignored.
 */

/** The one name Kargo accepts for the ClusterConfig. */
export const CLUSTER_CONFIG_NAME = 'cluster';

const refused = (why: string) =>
  z.unknown().superRefine((_, ctx) => ctx.addIssue({ code: z.ZodIssueCode.custom, message: why }));

const gitClientSchema = z
  .object({
    /** The committer's name in every commit a promotion makes. */
    name: z.string().trim().min(1, 'must not be empty').max(255),
    /** The committer's email. */
    email: z.string().trim().email('must be an email address').max(255),
    signingKeySecret: refused('commit signing is not supported by Stagecoach: remove signingKeySecret').optional(),
  })
  .strict();

export const clusterConfigSpecSchema = z
  .object({
    /** Webhook receivers are configured in app-config (stagecoach.webhooks.receivers), not in documents. */
    webhookReceivers: z
      .array(z.unknown())
      .refine(r => r.length === 0, {
        message:
          "Stagecoach's webhook receivers are configured in app-config (stagecoach.webhooks.receivers, see docs/webhooks.md), each with its secret: move them there",
      })
      .optional(),
    gitClient: gitClientSchema.optional(),
    /** Links shown on every project's freight, before the project's own (ProjectConfig). */
    freightLinks: z.array(deepLinkSchema).optional(),
    /** Links shown on every project's stages, before the project's own. */
    stageLinks: z.array(deepLinkSchema).optional(),
    promotionWindows: refused(PROMOTION_WINDOWS_REFUSAL).optional(),
  })
  .strict();

export type ClusterConfigSpec = z.infer<typeof clusterConfigSpecSchema>;
