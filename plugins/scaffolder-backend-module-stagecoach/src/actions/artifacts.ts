import type { TemplateActionOptions } from '@backstage/plugin-scaffolder-node';

/** The artifacts of a freight, as freight:create and freight:wait take them. */

/** The zod the scaffolder hands to an action's schema functions. */
type SchemaFunction = NonNullable<
  NonNullable<TemplateActionOptions['schema']>['input']
>[string];
type Zod = Parameters<SchemaFunction>[0];

/**
 * The inputs naming a freight's artifacts (typed loosely: the handlers read them as
 * {@link Artifacts}).
 */
export const artifactsInput: Record<
  'images' | 'commits' | 'charts',
  SchemaFunction
> = {
  images: (z: Zod) =>
    z
      .array(
        z.object({
          repoURL: z
            .string()
            .min(1)
            .describe(
              'The image repository, as the warehouse subscribes to it',
            ),
          tag: z.string().optional().describe('The tag'),
          digest: z.string().optional().describe('The digest (sha256:…)'),
        }),
      )
      .optional()
      .describe('Images, each by tag, digest or both'),
  commits: (z: Zod) =>
    z
      .array(
        z.object({
          repoURL: z
            .string()
            .min(1)
            .describe('The Git repository, as the warehouse subscribes to it'),
          id: z
            .string()
            .optional()
            .describe('The commit SHA (at least 7 leading characters)'),
          tag: z.string().optional().describe('The tag'),
        }),
      )
      .optional()
      .describe('Commits, each by id, tag or both'),
  charts: (z: Zod) =>
    z
      .array(
        z.object({
          repoURL: z
            .string()
            .min(1)
            .describe(
              'The chart repository, as the warehouse subscribes to it',
            ),
          name: z
            .string()
            .optional()
            .describe("The chart's name (classic Helm repositories)"),
          version: z.string().min(1).describe("The chart's version"),
        }),
      )
      .optional()
      .describe('Charts, each by version'),
};

export interface Artifacts {
  images?: Array<{ repoURL: string; tag?: string; digest?: string }>;
  commits?: Array<{ repoURL: string; id?: string; tag?: string }>;
  charts?: Array<{ repoURL: string; name?: string; version: string }>;
}

interface FreightArtifacts {
  images: Array<{ repoURL: string; tag?: string; digest?: string }>;
  commits: Array<{ repoURL: string; id?: string; tag?: string }>;
  charts: Array<{ repoURL: string; name?: string; version?: string }>;
}

const sameRepo = (a: string, b: string) =>
  a.replace(/\/+$|\.git$/g, '').toLowerCase() ===
  b.replace(/\/+$|\.git$/g, '').toLowerCase();

/** Whether a freight holds every artifact asked for (each field given must match). */
export function freightHolds(
  freight: FreightArtifacts,
  wanted: Artifacts,
): boolean {
  const images = (wanted.images ?? []).every(w =>
    freight.images.some(
      i =>
        sameRepo(i.repoURL, w.repoURL) &&
        (!w.tag || i.tag === w.tag) &&
        (!w.digest || i.digest === w.digest),
    ),
  );
  const commits = (wanted.commits ?? []).every(w =>
    freight.commits.some(
      c =>
        sameRepo(c.repoURL, w.repoURL) &&
        (!w.tag || c.tag === w.tag) &&
        (!w.id || (c.id ?? '').startsWith(w.id)),
    ),
  );
  const charts = (wanted.charts ?? []).every(w =>
    freight.charts.some(
      c =>
        sameRepo(c.repoURL, w.repoURL) &&
        (!w.name || c.name === w.name) &&
        c.version === w.version,
    ),
  );
  return images && commits && charts;
}

/** The artifacts in words, for logs and errors. */
export function describeArtifacts(a: Artifacts): string {
  return [
    ...(a.images ?? []).map(
      i =>
        `${i.repoURL}${i.tag ? `:${i.tag}` : ''}${
          i.digest ? `@${i.digest}` : ''
        }`,
    ),
    ...(a.commits ?? []).map(
      c => `${c.repoURL}${c.tag ? ` ${c.tag}` : ''}${c.id ? ` ${c.id}` : ''}`,
    ),
    ...(a.charts ?? []).map(
      c => `${c.repoURL}${c.name ? ` ${c.name}` : ''} ${c.version}`,
    ),
  ].join(', ');
}

export const artifactCount = (a: Artifacts) =>
  (a.images?.length ?? 0) + (a.commits?.length ?? 0) + (a.charts?.length ?? 0);
