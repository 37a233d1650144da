import type { Warehouse } from '@stagecoach/plugin-stagecoach-common';
import type { DiscoveryService } from '../discovery/DiscoveryService';
import type { SourceChange } from '../discovery/SubscriptionKind';
import type { SubscriptionKinds } from '../discovery/SubscriptionKinds';
import type { Subscription } from '../manifests/schemas';
import type { PipelineStore } from '../store/PipelineStore';
import type { Clock } from '../util/types';
import type { Views } from './views';

export interface WarehouseServiceOptions {
  pipelines: PipelineStore;
  discovery: Pick<DiscoveryService, 'discover'>;
  /** What warehouses subscribe to: which subscriptions a change concerns. */
  kinds: SubscriptionKinds;
  views: Views;
  clock: Clock;
}

/** Warehouses: what they subscribe to, what discovery found, and asking for a discovery now. */
export class WarehouseService {
  constructor(private readonly o: WarehouseServiceOptions) {}

  async list(project: string): Promise<Warehouse[]> {
    await this.o.pipelines.assertProject(project);
    return (await this.o.pipelines.listWarehouses(project)).map(w =>
      this.o.views.warehouse(w),
    );
  }

  async get(project: string, name: string): Promise<Warehouse> {
    return this.o.views.warehouse(
      await this.o.pipelines.getWarehouse(project, name),
    );
  }

  /** Makes a warehouse due for discovery now; the caller triggers the discovery task. */
  async refresh(project: string, name: string): Promise<void> {
    await this.o.pipelines.requestDiscovery(project, name, this.now());
  }

  /**
   * Discovers now every warehouse with a subscription a webhook's change concerns (each kind
   * says which of its subscriptions do). Returns `project/warehouse` of each.
   */
  async refreshChanged(change: SourceChange, project?: string): Promise<string[]> {
    return this.refreshMatching(s => this.o.kinds.matchesChange(change, s), project);
  }

  /**
   * Discovers now every warehouse with a subscription the predicate selects (a webhook said
   * that source changed). Returns `project/warehouse` of each; discovery runs in the background.
   */
  async refreshMatching(
    matches: (subscription: Subscription) => boolean,
    /** Only this project's warehouses (a project's own webhook receiver). */
    project?: string,
  ): Promise<string[]> {
    const { pipelines, discovery } = this.o;
    const hit = (await pipelines.listAllWarehouses()).filter(
      w => (project === undefined || w.project === project) && w.spec.subscriptions.some(matches),
    );
    const now = this.now();
    for (const w of hit)
      await pipelines.requestDiscovery(w.project, w.name, now);
    for (const w of hit) {
      pipelines
        .getWarehouse(w.project, w.name)
        .then(fresh => discovery.discover(fresh))
        .catch(() => undefined); // recorded on the warehouse by discover()
    }
    return hit.map(w => `${w.project}/${w.name}`);
  }

  private now(): string {
    return this.o.clock.now().toISOString();
  }
}
