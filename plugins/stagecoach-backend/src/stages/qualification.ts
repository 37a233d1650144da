import type { StageSpec } from '../manifests/schemas';
import type { StoredFreight } from '../store/FreightStore';

export type Qualification = { ok: true } | { ok: false; reason: string };

/**
 * Whether freight may enter a stage: the stage must request freight from the freight's
 * warehouse, and either take it directly from there or find it verified in one of the
 * upstream stages it names.
 */
export function qualifies(
  stage: { name: string; spec: StageSpec },
  freight: StoredFreight,
  verifiedIn: readonly string[],
): Qualification {
  const requested = stage.spec.requestedFreight.find(r => r.origin.name === freight.warehouse);
  if (!requested) {
    const origins = stage.spec.requestedFreight.map(r => r.origin.name).join(', ');
    return {
      ok: false,
      reason: `stage "${stage.name}" takes freight from warehouse ${origins}, not from "${freight.warehouse}"`,
    };
  }
  if (requested.sources.direct) return { ok: true };
  const upstream = requested.sources.stages ?? [];
  if (upstream.some(s => verifiedIn.includes(s))) return { ok: true };
  return {
    ok: false,
    reason:
      `freight ${freight.alias} has not been promoted successfully to ${upstream.map(s => `"${s}"`).join(' or ')} yet; ` +
      `stage "${stage.name}" only takes freight that succeeded there`,
  };
}
