import { createHash } from 'node:crypto';
import { FreightStore } from '../store/FreightStore';
import { GroupCommit } from '../store/GroupCommit';
import { PipelineStore, StoredWarehouse } from '../store/PipelineStore';
import { parseDuration } from '../util/duration';
import { redactSecrets } from '../util/secrets';
import { Clock, Logger } from '../util/types';
import { decideFreightCreation } from './freightCreation';
import type { Subscribers, SubscriptionKinds } from './SubscriptionKinds';
import type { SubscriptionContext } from './types';

export interface DiscoveryResult {
  project: string;
  warehouse: string;
  /** Freight created by this run, if any. */
  createdFreightId?: string;
  /** True when no source had moved and nothing further was done. */
  unchanged: boolean;
  error?: string;
}

const FIRST_RETRY_MS = 10_000;

export interface DiscoveryServiceOptions {
  pipelines: PipelineStore;
  freight: FreightStore;
  /** What the warehouses may subscribe to. */
  kinds: SubscriptionKinds;
  /** The kinds' subscribers, by kind name. */
  subscribers: Subscribers;
  clock: Clock;
  logger: Logger;
  /** Discovery's writes: many warehouses' in one commit when they finish together. */
  writes: GroupCommit;
  /** Told of each freight discovery creates, once it is committed, whatever started the discovery. */
  onFreightCreated?: (result: DiscoveryResult) => void;
  /** Told of each discovery that failed, once the failure is recorded on the warehouse. */
  onFailed?: (result: DiscoveryResult) => void;
  /** The project a subscriber works for and its credentials (default: none, anonymous sources). */
  contextFor?: (project: string) => SubscriptionContext;
}

/** When this process last looked at a warehouse whose sources had not moved. */
interface QuietCheck {
  at: string;
  next: string;
}

/**
 * Runs the discovery of due warehouses: new artifacts become freight. A look that finds
 * nothing new writes nothing: its time and the next one are kept in memory (and shown by
 * the API), so an idle cycle costs the sources' probes and no database writes.
 */
export class DiscoveryService {
  private readonly quiet = new Map<string, QuietCheck>();

  private readonly pipelines: PipelineStore;
  private readonly freight: FreightStore;
  private readonly kinds: SubscriptionKinds;
  private readonly subscribers: Subscribers;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly writes: GroupCommit;
  private readonly onFreightCreated: (result: DiscoveryResult) => void;
  private readonly onFailed: (result: DiscoveryResult) => void;
  private readonly contextFor?: (project: string) => SubscriptionContext;

  constructor(options: DiscoveryServiceOptions) {
    this.pipelines = options.pipelines;
    this.freight = options.freight;
    this.kinds = options.kinds;
    this.subscribers = options.subscribers;
    this.clock = options.clock;
    this.logger = options.logger;
    this.writes = options.writes;
    this.onFreightCreated = options.onFreightCreated ?? (() => undefined);
    this.onFailed = options.onFailed ?? (() => undefined);
    this.contextFor = options.contextFor;
  }

  /** Discovers every warehouse that is due, a few at a time. */
  async runDue(
    options: { concurrency?: number; limit?: number } = {},
  ): Promise<DiscoveryResult[]> {
    const now = this.clock.now().toISOString();
    const due = (
      await this.pipelines.dueWarehouses(now, options.limit ?? 1000)
    ).filter(w => {
      const q = this.quiet.get(`${w.project}/${w.name}`);
      // due unless a quiet look scheduled it later, and nobody asked for a refresh since
      return !q || q.next <= now || (w.row.next_discovery_at ?? '') > q.at;
    });
    const results: DiscoveryResult[] = [];
    const queue = [...due];
    const workers = Array.from(
      { length: Math.min(options.concurrency ?? 8, queue.length) },
      async () => {
        for (let w = queue.shift(); w; w = queue.shift())
          results.push(await this.discover(w));
      },
    );
    await Promise.all(workers);
    return results;
  }

  /** A listener's failure is logged: the freight is made and stays made, the failure recorded. */
  private tell(
    listener: (result: DiscoveryResult) => void,
    result: DiscoveryResult,
  ): void {
    try {
      listener(result);
    } catch (e) {
      this.logger.warn(
        `could not report the discovery of ${result.project}/${
          result.warehouse
        }: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  quietCheck(project: string, name: string): QuietCheck | undefined {
    return this.quiet.get(`${project}/${name}`);
  }

  /** Discovers one warehouse now. Failures are recorded on the warehouse and retried with backoff. */
  async discover(warehouse: StoredWarehouse): Promise<DiscoveryResult> {
    const { project, name, spec, row } = warehouse;
    const started = this.clock.now();
    const intervalMs = parseDuration(spec.interval);
    const context = this.contextFor?.(project);
    try {
      const probes = await Promise.all(
        spec.subscriptions.map(async s => {
          const { kind, sub } = this.kinds.of(s);
          const subscriber = this.subscribers.get(kind.name);
          if (!subscriber)
            throw new Error(
              `${kind.name} subscriptions are not available in this backend`,
            );
          return { kind, sub, subscriber, probe: await subscriber.probe(sub, context) };
        }),
      );
      const refsHash = createHash('sha256')
        .update(probes.map(p => p.probe.hash).join(','))
        .digest('hex');
      const next = new Date(started.getTime() + intervalMs).toISOString();

      if (refsHash === row.observed_refs_hash && row.last_error === null) {
        this.quiet.set(`${project}/${name}`, {
          at: started.toISOString(),
          next,
        });
        return { project, warehouse: name, unchanged: true };
      }
      this.quiet.delete(`${project}/${name}`);

      const found = await Promise.all(
        probes.map(p => p.subscriber.discover(p.sub, p.probe, context)),
      );
      const artifacts = this.kinds.emptyArtifacts();
      const missing: string[] = [];
      // freight is made of each subscription's latest; the status shows what each one lists
      const discovered = probes.map((p, i) => {
        const { latest, listed } = found[i];
        if (latest === undefined)
          missing.push(
            `${p.kind.describeNoMatch(
              p.sub,
            )}: no freight can be made until one is pushed`,
          );
        else (artifacts[p.kind.field] ??= []).push(latest);
        return { [p.kind.name]: { repoURL: p.sub.repoURL, artifacts: listed } };
      });

      // a Manual warehouse, or criteria that say no, only records what was discovered
      const creation =
        missing.length === 0
          ? decideFreightCreation(
              spec,
              this.kinds.expressionFunctions(
                artifacts,
                'the candidate freight',
                { warehouse: name },
              ),
            )
          : undefined;
      if (creation && !creation.create && creation.error)
        missing.push(creation.error);
      // freight and the status that names it are written together, in a shared commit
      const stored = await this.writes.run(async tx => {
        const made = creation?.create
          ? await this.freight
              .transacting(tx)
              .ensure(project, name, artifacts, started.toISOString())
          : undefined;
        await this.pipelines.transacting(tx).recordDiscovery(project, name, {
          lastDiscoveryAt: started.toISOString(),
          nextDiscoveryAt: next,
          lastError: missing.length ? missing.join('; ') : null,
          failureCount: 0,
          observedRefsHash: refsHash,
          lastFreightId: made?.freight.id,
          discovered,
        });
        return made;
      });
      const result: DiscoveryResult = {
        project,
        warehouse: name,
        unchanged: false,
      };
      if (stored?.created) {
        result.createdFreightId = stored.freight.id;
        this.logger.info(
          `warehouse ${project}/${name} created freight ${stored.freight.alias} (${stored.freight.id})`,
        );
        this.tell(this.onFreightCreated, result);
      }
      return result;
    } catch (e) {
      this.quiet.delete(`${project}/${name}`);
      const failureCount = row.failure_count + 1;
      const retryMs = Math.min(
        FIRST_RETRY_MS * 2 ** (failureCount - 1),
        Math.max(intervalMs, FIRST_RETRY_MS),
      );
      const message = redactSecrets(e instanceof Error ? e.message : String(e));
      const error = `discovery failed (attempt ${failureCount}, next try in ${Math.round(
        retryMs / 1000,
      )}s): ${message}`;
      this.logger.warn(`warehouse ${project}/${name}: ${error}`);
      await this.writes.run(tx =>
        this.pipelines.transacting(tx).recordDiscovery(project, name, {
          lastDiscoveryAt: started.toISOString(),
          nextDiscoveryAt: new Date(started.getTime() + retryMs).toISOString(),
          lastError: error,
          failureCount,
        }),
      );
      const result = { project, warehouse: name, unchanged: false, error };
      this.tell(this.onFailed, result);
      return result;
    }
  }
}

/** The last quiet look at a warehouse by this process, if it is newer than what the database holds. */
export function mergeQuietCheck(
  status: { lastDiscoveryAt?: string; nextDiscoveryAt?: string },
  quiet: QuietCheck | undefined,
): { lastDiscoveryAt?: string; nextDiscoveryAt?: string } {
  if (!quiet || (status.lastDiscoveryAt && status.lastDiscoveryAt > quiet.at))
    return status;
  return { lastDiscoveryAt: quiet.at, nextDiscoveryAt: quiet.next };
}
