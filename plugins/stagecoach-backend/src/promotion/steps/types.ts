import type { z } from 'zod';
import type { GitIdentity } from '../../integrations/git/GitCli';
import type { StoredFreight } from '../../store/FreightStore';
import type { Logger } from '../../util/types';

export interface StepContext {
  /** The promotion's own temporary directory; every path in config is inside it. */
  workDir: string;
  project: string;
  stage: string;
  promotionId: string;
  freight: StoredFreight;
  /** The step's alias (`as`, or `step-<n>`). */
  alias: string;
  gitIdentity: GitIdentity;
  logger: Logger;
}

export interface StepResult {
  status: 'Succeeded' | 'Failed';
  message?: string;
  /** Addressable by later steps as `outputs.<alias>.<name>`. */
  outputs?: Record<string, unknown>;
}

/** A promotion step: its name, its configuration's schema and what it does. */
export interface StepDefinition<Config = any> {
  name: string;
  description: string;
  schema: z.ZodType<Config, z.ZodTypeDef, unknown>;
  run(ctx: StepContext, config: Config): Promise<StepResult>;
}
