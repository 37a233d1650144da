import type { FreightStore, StoredFreight } from '../store/FreightStore';
import type { FreightAliasWriter } from './steps/types';

/** Freight a promotion's set-freight-alias step renamed, for the audit log. */
export interface FreightAliasChange {
  project: string;
  stage: string;
  promotion: string;
  /** Who the promotion runs for: its creator. */
  actor?: string;
  freight: string;
  previousAlias: string;
  alias: string;
}

/**
 * set-freight-alias's writer for one promotion: renames freight of the promotion's project
 * only, through FreightStore.setAlias (the API's rename), and says so to `onChanged`. When
 * the freight renamed is the one being promoted, `promoted` is updated too, so that later
 * steps' expressions (`ctx.targetFreight.alias`) see the new alias.
 */
export function freightAliasWriter(
  store: FreightStore,
  promotion: { project: string; stage: string; id: string; createdBy?: string },
  promoted: StoredFreight,
  onChanged?: (change: FreightAliasChange) => void,
): FreightAliasWriter {
  return {
    async set(name, alias) {
      const before = await store.get(promotion.project, name);
      const after = await store.setAlias(promotion.project, before.id, alias);
      if (after.id === promoted.id) promoted.alias = after.alias;
      if (before.alias !== after.alias) {
        onChanged?.({
          project: promotion.project,
          stage: promotion.stage,
          promotion: promotion.id,
          actor: promotion.createdBy,
          freight: after.id,
          previousAlias: before.alias,
          alias: after.alias,
        });
      }
      return { id: after.id, previous: before.alias, alias: after.alias };
    },
  };
}
