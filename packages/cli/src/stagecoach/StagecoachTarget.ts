import {
  StagecoachApiClient,
  type ManifestProblem,
  type ManifestRemovals,
} from '@stagecoach/plugin-stagecoach-common';

/** What one `PUT /projects/{p}/manifests` came to. */
export type ApplyOutcome =
  | { outcome: 'applied'; warehouses: string[]; stages: string[] }
  /** 400 with the problems of the set, each naming its document (from 1). */
  | { outcome: 'refused'; message: string; problems: ManifestProblem[] }
  /** 409: the project has warehouses or stages the set does not define. */
  | {
      outcome: 'prune-required';
      message: string;
      wouldRemove?: ManifestRemovals;
    }
  /** Anything else: no credentials, not allowed, the backend unreachable. */
  | { outcome: 'failed'; message: string };

interface ErrorBody {
  error?: { message?: string; wouldRemove?: ManifestRemovals };
  problems?: ManifestProblem[];
}

/**
 * A Stagecoach backend, through the REST API's generated client: `url` is the backend's
 * (http://localhost:7007), `token` a Backstage token, such as the static token of
 * `backend.auth.externalAccess` (docs/api.md).
 */
export class StagecoachTarget {
  private readonly client: StagecoachApiClient;

  constructor(readonly url: string, private readonly token: string) {
    const base = `${url.replace(/\/+$/, '')}/api/stagecoach`;
    this.client = new StagecoachApiClient({
      discoveryApi: { getBaseUrl: async () => base },
    });
  }

  /** Applies a project's manifests, all or nothing; `prune` removes what the set does not define. */
  async apply(
    project: string,
    yaml: string,
    options: { prune: boolean },
  ): Promise<ApplyOutcome> {
    let response: Response;
    try {
      response = (await this.client.applyManifests(
        {
          path: { project },
          query: options.prune ? { prune: 'true' } : undefined,
          body: { manifests: yaml },
        },
        { token: this.token },
      )) as unknown as Response;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return {
        outcome: 'failed',
        message: `cannot reach Stagecoach at ${this.url}${
          cause ? ` (${cause})` : ''
        }: is the backend running, and the --url right?`,
      };
    }
    if (response.ok) {
      const body = (await response.json()) as {
        warehouses: string[];
        stages: string[];
      };
      return {
        outcome: 'applied',
        warehouses: body.warehouses,
        stages: body.stages,
      };
    }
    const text = await response.text();
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not Backstage's error shape: a proxy's page, say
    }
    const message =
      body.error?.message ?? `${response.status} ${response.statusText}`;
    switch (response.status) {
      case 400:
        return { outcome: 'refused', message, problems: body.problems ?? [] };
      case 409:
        return {
          outcome: 'prune-required',
          message,
          wouldRemove: body.error?.wouldRemove,
        };
      case 401:
        return {
          outcome: 'failed',
          message: `Stagecoach at ${this.url} did not accept the token (401): pass --token or set STAGECOACH_TOKEN to a token of backend.auth.externalAccess`,
        };
      case 403:
        return {
          outcome: 'failed',
          message: `the token may not apply manifests to project "${project}" (403, permission stagecoach.manifests.apply): ${message}`,
        };
      default:
        return {
          outcome: 'failed',
          message: `Stagecoach at ${this.url} answered ${response.status}: ${message}`,
        };
    }
  }
}
