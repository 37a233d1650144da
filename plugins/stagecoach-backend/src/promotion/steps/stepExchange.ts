import { EgressRefusedError } from '../../integrations/http/egress';
import { exchange, HttpRequestSpec } from '../../integrations/http/exchange';
import { StepConfigError } from '../workDir';
import type { StepContext } from './types';

/**
 * The exchange of integrations/http with the step's egress policy and abort signal. A request
 * the egress policy refuses fails the step at once: retrying cannot change the answer.
 */
export async function stepExchange<T>(
  ctx: Pick<StepContext, 'egress' | 'signal'>,
  spec: HttpRequestSpec,
  use: (response: Response, what: string) => Promise<T>,
): Promise<T> {
  try {
    return await exchange(
      { egress: ctx.egress, signal: ctx.signal },
      spec,
      use,
    );
  } catch (e) {
    if (e instanceof EgressRefusedError) throw new StepConfigError(e.message);
    throw e;
  }
}
