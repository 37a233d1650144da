import { createHash } from 'node:crypto';
import type { GitCommit } from '@stagecoach/plugin-stagecoach-common';
import { FreightStore } from '../store/FreightStore';
import { PipelineStore, StoredWarehouse } from '../store/PipelineStore';
import { parseDuration } from '../util/duration';
import { redactSecrets } from '../util/secrets';
import { Clock, Logger } from '../util/types';
import { GitSubscriber } from './git/GitSubscriber';

export interface DiscoveryResult {
  project: string;
  warehouse: string;
  /** Freight created by this run, if any. */
  createdFreightId?: string;
  /** True when the remote refs had not moved and nothing further was done. */
  unchanged: boolean;
  error?: string;
}

const FIRST_RETRY_MS = 10_000;

/** Runs the discovery of due warehouses: new artifacts become freight. */
export class DiscoveryService {
  constructor(
    private readonly pipelines: PipelineStore,
    private readonly freight: FreightStore,
    private readonly git: GitSubscriber,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Discovers every warehouse that is due, a few at a time. */
  async runDue(options: { concurrency?: number; limit?: number } = {}): Promise<DiscoveryResult[]> {
    const due = await this.pipelines.dueWarehouses(this.clock.now().toISOString(), options.limit ?? 1000);
    const results: DiscoveryResult[] = [];
    const queue = [...due];
    const workers = Array.from({ length: Math.min(options.concurrency ?? 8, queue.length) }, async () => {
      for (let w = queue.shift(); w; w = queue.shift()) results.push(await this.discover(w));
    });
    await Promise.all(workers);
    return results;
  }

  /** Discovers one warehouse now. Failures are recorded on the warehouse and retried with backoff. */
  async discover(warehouse: StoredWarehouse): Promise<DiscoveryResult> {
    const { project, name, spec, row } = warehouse;
    const started = this.clock.now();
    const intervalMs = parseDuration(spec.interval);
    try {
      const probes = await Promise.all(
        spec.subscriptions.map(async s => ({ sub: s.git, probe: await this.git.refsHash(s.git) })),
      );
      const refsHash = createHash('sha256').update(probes.map(p => p.probe.hash).join(',')).digest('hex');
      const next = new Date(started.getTime() + intervalMs).toISOString();

      if (refsHash === row.observed_refs_hash && row.last_error === null) {
        await this.pipelines.recordDiscovery(project, name, {
          lastDiscoveryAt: started.toISOString(),
          nextDiscoveryAt: next,
          lastError: null,
          failureCount: 0,
        });
        return { project, warehouse: name, unchanged: true };
      }

      const discovered = await Promise.all(probes.map(p => this.git.discover(p.sub, p.probe)));
      const commits: GitCommit[] = [];
      const missing: string[] = [];
      discovered.forEach((d, i) => {
        if (d.commits.length > 0) commits.push(d.commits[0]);
        else missing.push(describeNoMatch(spec.subscriptions[i].git));
      });

      let createdFreightId: string | undefined;
      let lastFreightId: string | undefined;
      if (missing.length === 0) {
        const { freight, created } = await this.freight.ensure(
          project,
          name,
          { commits, images: [], charts: [] },
          started.toISOString(),
        );
        lastFreightId = freight.id;
        if (created) {
          createdFreightId = freight.id;
          this.logger.info(`warehouse ${project}/${name} created freight ${freight.alias} (${freight.id})`);
        }
      }
      await this.pipelines.recordDiscovery(project, name, {
        lastDiscoveryAt: started.toISOString(),
        nextDiscoveryAt: next,
        lastError: missing.length ? missing.join('; ') : null,
        failureCount: 0,
        observedRefsHash: refsHash,
        lastFreightId,
        discovered: discovered.map(d => ({
          git: { repoURL: d.repoURL, commits: d.commits.map(c => ({ id: c.id, tag: c.tag })) },
        })),
      });
      return { project, warehouse: name, unchanged: false, createdFreightId };
    } catch (e) {
      const failureCount = row.failure_count + 1;
      const retryMs = Math.min(FIRST_RETRY_MS * 2 ** (failureCount - 1), Math.max(intervalMs, FIRST_RETRY_MS));
      const message = redactSecrets(e instanceof Error ? e.message : String(e));
      const error = `discovery failed (attempt ${failureCount}, next try in ${Math.round(retryMs / 1000)}s): ${message}`;
      this.logger.warn(`warehouse ${project}/${name}: ${error}`);
      await this.pipelines.recordDiscovery(project, name, {
        lastDiscoveryAt: started.toISOString(),
        nextDiscoveryAt: new Date(started.getTime() + retryMs).toISOString(),
        lastError: error,
        failureCount,
      });
      return { project, warehouse: name, unchanged: false, error };
    }
  }
}

function describeNoMatch(sub: { repoURL: string; commitSelectionStrategy: string; semverConstraint?: string }) {
  const what =
    sub.commitSelectionStrategy === 'SemVer'
      ? `no tag of ${sub.repoURL} is a semantic version${sub.semverConstraint ? ` matching "${sub.semverConstraint}"` : ''}`
      : `${sub.repoURL} has no tags`;
  return `${what}: no freight can be made until one is pushed`;
}
