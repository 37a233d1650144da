import type {
  StagecoachHttpRequest,
  StagecoachHttpResponse,
} from '@stagecoach/plugin-stagecoach-node';
import { exchange, ExchangeContext, readBody } from './exchange';

/**
 * The `request` that backend modules' code (promotion steps, verification providers) is
 * handed: the public request of @stagecoach/plugin-stagecoach-node sent as one exchange under
 * the egress policy, its answer read in full whatever its status.
 */

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** The request's URL does not parse: a mistake in the module's code or config. */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/**
 * Sends a module's request. Throws InvalidRequestError for a URL that does not parse, the
 * exchange's EgressRefusedError for a request the policy refuses, and an Error naming the
 * request (never its header values) for a network failure or a timeout.
 */
export async function moduleRequest(
  ctx: ExchangeContext,
  req: StagecoachHttpRequest,
): Promise<StagecoachHttpResponse> {
  if (typeof req.url !== 'string' || !URL.canParse(req.url)) {
    // the text may hold credentials: not repeated
    throw new InvalidRequestError('request: the url is not a valid URL');
  }
  const limit = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return exchange(
    ctx,
    {
      method: (req.method ?? 'GET').toUpperCase(),
      url: req.url,
      headers: Object.entries(req.headers ?? {}).map(([name, value]) => ({
        name,
        value,
      })),
      queryParams: [],
      body: typeof req.body === 'string' ? Buffer.from(req.body) : req.body,
      timeout: `${req.timeoutMs ?? DEFAULT_TIMEOUT_MS}ms`,
    },
    async (response, what) => ({
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: await readBody(response, limit, what),
    }),
  );
}
