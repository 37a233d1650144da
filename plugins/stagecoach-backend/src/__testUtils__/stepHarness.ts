import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ARGOCD_SETTINGS } from '../integrations/argocd/types';
import { unconfiguredClusters } from '../integrations/kubernetes/unconfigured';
import { DEFAULT_GIT_IDENTITY } from '../integrations/git/GitCli';
import { DEFAULT_EGRESS_POLICY } from '../integrations/http/egress';
import { RegistryClient } from '../integrations/registry';
import { noScmCredentials } from '../integrations/scm/ScmCredentials';
import { attemptFolders, StepConfigError } from '../promotion/workDir';
import type { StepContext, StepDefinition, StepResult } from '../promotion/steps/types';
import type { StoredFreight } from '../store/FreightStore';
import { silentLogger } from '../util/types';

/** Freight with nothing in it unless told otherwise. */
export function testFreight(over: Partial<StoredFreight> = {}): StoredFreight {
  return {
    project: 'test',
    id: 'f'.repeat(40),
    alias: 'brave-otter',
    warehouse: 'app',
    artifacts: { commits: [], images: [], charts: [] },
    createdAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** The clone store beside each work directory tempWorkDir made, for runStep. */
const cloneStores = new Map<string, string>();

/**
 * A fresh work directory under the OS temp folder, laid out as the runner lays out an
 * attempt (the clone store beside it); remove both with cleanup().
 */
export async function tempWorkDir(): Promise<{ dir: string; cloneStore: string; cleanup(): Promise<void> }> {
  const attempt = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-step-')));
  const { workDir, cloneStore } = attemptFolders(attempt);
  await fs.mkdir(workDir);
  await fs.mkdir(cloneStore);
  cloneStores.set(workDir, cloneStore);
  return {
    dir: workDir,
    cloneStore,
    cleanup: async () => {
      cloneStores.delete(workDir);
      await fs.rm(attempt, { recursive: true, force: true });
    },
  };
}

/**
 * Runs one step the way the runner does: the config (already free of `${{ }}`) is parsed by
 * the step's schema first, and a schema problem throws StepConfigError naming the fields.
 */
export async function runStep<C>(
  step: StepDefinition<C>,
  config: unknown,
  ctx: Partial<StepContext> & { workDir: string },
): Promise<StepResult> {
  const parsed = step.schema.safeParse(config);
  if (!parsed.success) {
    throw new StepConfigError(
      parsed.error.issues.map(i => `config.${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  const full: StepContext = {
    project: 'test',
    stage: 'dev',
    promotionId: 'dev.test.00000000',
    freight: testFreight(),
    alias: 'step-1',
    gitIdentity: DEFAULT_GIT_IDENTITY,
    logger: silentLogger,
    outputs: {},
    signal: new AbortController().signal,
    credentials: noScmCredentials,
    metadata: { set: async () => undefined },
    freightAliases: {
      set: async () => {
        throw new Error('runStep: pass freightAliases to run set-freight-alias');
      },
    },
    fetch: globalThis.fetch,
    // production's default: a test that talks to loopback servers passes LOOPBACK_ALLOWED
    egress: DEFAULT_EGRESS_POLICY,
    kube: unconfiguredClusters,
    argocd: DEFAULT_ARGOCD_SETTINGS,
    ...ctx,
    // a test of the oci-* steps passes its own (and closes it)
    get registry(): RegistryClient {
      if (!ctx.registry) throw new Error('runStep: pass registry (a RegistryClient) for a step that uses one');
      return ctx.registry;
    },
    get cloneStore(): string {
      const store = ctx.cloneStore ?? cloneStores.get(ctx.workDir);
      if (!store) throw new Error(`runStep: ${ctx.workDir} was not made by tempWorkDir(): pass cloneStore`);
      return store;
    },
  };
  return step.run(full, parsed.data);
}
