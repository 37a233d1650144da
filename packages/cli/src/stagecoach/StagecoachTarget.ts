import {
  StagecoachApiClient,
  type ManifestProblem,
  type ManifestRemovals,
} from '@stagecoach/plugin-stagecoach-common';

/** A warning of an apply: a document the backend read but did not keep, say. */
export interface ApplyWarning {
  document: number;
  resource?: string;
  message: string;
}

/** What one `PUT .../manifests` came to. */
export type ApplyOutcome =
  | { outcome: 'applied'; warnings: ApplyWarning[] }
  /** 400 with the problems of the set, each naming its document (from 1). */
  | { outcome: 'refused'; message: string; problems: ManifestProblem[] }
  /** 409: the set would remove what it does not define. */
  | {
      outcome: 'prune-required';
      message: string;
      wouldRemove?: ManifestRemovals;
    }
  /** 404 on the cluster scope: a Stagecoach from before it. */
  | { outcome: 'unsupported'; message: string }
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
  applyProject(
    project: string,
    yaml: string,
    options: { prune: boolean },
  ): Promise<ApplyOutcome> {
    return this.apply(
      `project "${project}"`,
      'stagecoach.manifests.apply',
      () =>
        this.client.applyManifests(
          {
            path: { project },
            query: options.prune ? { prune: 'true' } : undefined,
            body: { manifests: yaml },
          },
          { token: this.token },
        ),
    );
  }

  /**
   * Applies documents of the cluster scope, all or nothing, as a merge (`?merge=true`: added
   * or updated, every other stored resource kept); with `prune`, as the whole cluster scope
   * (what the set leaves out is removed). `unsupported` when the backend has no cluster scope.
   */
  applyCluster(
    yaml: string,
    options: { prune: boolean },
  ): Promise<ApplyOutcome> {
    return this.apply(
      'the cluster scope',
      'stagecoach.cluster.update',
      () =>
        this.client.applyClusterManifests(
          {
            query: options.prune ? { prune: 'true' } : { merge: 'true' },
            body: { manifests: yaml },
          },
          { token: this.token },
        ),
      { notFoundIsUnsupported: true },
    );
  }

  private async apply(
    what: string,
    permission: string,
    call: () => Promise<unknown>,
    options: { notFoundIsUnsupported?: boolean } = {},
  ): Promise<ApplyOutcome> {
    const response = await this.send(call);
    if ('failed' in response) {
      return { outcome: 'failed', message: response.failed };
    }
    if (response.status === 404 && options.notFoundIsUnsupported) {
      return {
        outcome: 'unsupported',
        message: `Stagecoach at ${this.url} has no ${what} (404)`,
      };
    }
    if (response.ok) {
      const body = (await response.json()) as { warnings?: ApplyWarning[] };
      return { outcome: 'applied', warnings: body.warnings ?? [] };
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
    if (response.status === 400) {
      return { outcome: 'refused', message, problems: body.problems ?? [] };
    }
    if (response.status === 409) {
      return {
        outcome: 'prune-required',
        message,
        wouldRemove: body.error?.wouldRemove,
      };
    }
    return {
      outcome: 'failed',
      message: this.failure(response.status, message, what, permission),
    };
  }

  private async send(
    call: () => Promise<unknown>,
  ): Promise<Response | { failed: string }> {
    try {
      return (await call()) as Response;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return {
        failed: `cannot reach Stagecoach at ${this.url}${
          cause ? ` (${cause})` : ''
        }: is the backend running, and the --url right?`,
      };
    }
  }

  /** A failed answer in words; never the token. */
  private failure(
    status: number,
    message: string,
    what: string,
    permission: string,
  ): string {
    if (status === 401) {
      return `Stagecoach at ${this.url} did not accept the token (401): pass --token or set STAGECOACH_TOKEN to a token of backend.auth.externalAccess`;
    }
    if (status === 403) {
      return `the token may not change ${what} (403, permission ${permission}): ${message}`;
    }
    return `Stagecoach at ${this.url} answered ${status}: ${message}`;
  }
}
