import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import type { ActionContext } from '@backstage/plugin-scaffolder-node';
import {
  StagecoachApiClient,
  type TypedResponse,
} from '@stagecoach/plugin-stagecoach-common';

/** What every Stagecoach action needs from the backend it runs in. */
export interface StagecoachActionOptions {
  discovery: DiscoveryService;
  auth: AuthService;
}

/** The REST client and a token that acts as the user running the template. */
export interface StagecoachCall {
  client: StagecoachApiClient;
  token: string;
}

/**
 * The REST API of the Stagecoach plugin, called on behalf of the user who runs the template
 * (a Backstage token for `stagecoach` made from the task's initiator credentials), so
 * Stagecoach's permission policy decides what the template may do, as it would for that user.
 */
export async function stagecoachAsInitiator(
  options: StagecoachActionOptions,
  ctx: Pick<ActionContext<any, any>, 'getInitiatorCredentials'>,
): Promise<StagecoachCall> {
  const credentials = await ctx.getInitiatorCredentials();
  const { token } = await options.auth.getPluginRequestToken({
    onBehalfOf: credentials,
    targetPluginId: 'stagecoach',
  });
  const client = new StagecoachApiClient({
    discoveryApi: options.discovery,
    fetchApi: { fetch: (input, init) => fetch(input, init) },
  });
  return { client, token };
}

/** An answer of the API that was not a success, in the words of the action's inputs. */
export class StagecoachApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'StagecoachApiError';
  }
}

interface ErrorBody {
  error?: { name?: string; message?: string };
  problems?: Array<{
    document?: number;
    resource?: string;
    path?: string;
    message?: string;
  }>;
}

/**
 * The body of a successful answer; otherwise an error that says what was asked (`what`, in
 * terms of the action's inputs) and what Stagecoach answered: its status, its message and,
 * for refused manifests, every problem with its document and field path.
 */
export async function answerOf<T>(
  response: TypedResponse<T>,
  what: string,
): Promise<T> {
  if (response.ok) return (await response.json()) as T;
  const text = await response.text().catch(() => '');
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    body = undefined;
  }
  const message =
    body?.error?.message ?? (text.trim().slice(0, 500) || response.statusText);
  const problems = (body?.problems ?? []).map(
    p =>
      `\n  - document ${p.document ?? '?'}${
        p.resource ? ` (${p.resource})` : ''
      }, ${p.path ?? ''}: ${p.message ?? ''}`,
  );
  throw new StagecoachApiError(
    response.status,
    `${what}: Stagecoach answered ${response.status}${
      body?.error?.name ? ` ${body.error.name}` : ''
    }: ${message}${problems.join('')}`,
  );
}

/** Waits `ms`, or less when the task is cancelled. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
