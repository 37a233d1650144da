import { isNamePattern, matchesNamePattern } from '../util/namePatterns';

/**
 * Stage selectors of a ProjectConfig's promotion policies, read as Kargo reads them: a name
 * (exact, `glob:<pattern>`, or `regex:`/`regexp:<pattern>`) ANDed with a Kubernetes label
 * selector (`matchLabels`, `matchExpressions`).
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** Kubernetes label selector semantics: every label and every expression must hold. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  return (selector.matchExpressions ?? []).every(e => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(labels[e.key]);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(labels[e.key]);
      case 'Exists':
        return has;
      default:
        return !has;
    }
  });
}

export interface StageSelector extends LabelSelector {
  name?: string;
}

export interface PromotionPolicy {
  /** Deprecated in Kargo: the exact stage name; stageSelector wins when both are set. */
  stage?: string;
  stageSelector?: StageSelector;
  autoPromotionEnabled?: boolean;
}

/**
 * The first policy whose selector matches the stage, and its index: later matches are
 * ignored, as in Kargo. A policy that names no stage at all matches every stage.
 */
export function findPromotionPolicy(
  policies: readonly PromotionPolicy[],
  stage: { name: string; labels?: Readonly<Record<string, string>> },
): { policy: PromotionPolicy; index: number } | undefined {
  for (let index = 0; index < policies.length; index++) {
    const policy = policies[index];
    const selector: StageSelector = policy.stageSelector ?? { name: policy.stage };
    if (selector.name && !matchesNamePattern(selector.name, stage.name)) continue;
    if (!matchesLabels(selector, stage.labels ?? {})) continue;
    return { policy, index };
  }
  return undefined;
}

function describeRequirement(e: LabelSelectorRequirement): string {
  if (e.operator === 'Exists') return e.key;
  if (e.operator === 'DoesNotExist') return `!${e.key}`;
  return `${e.key} ${e.operator} (${(e.values ?? []).join(', ')})`;
}

/** A selector in words, for the API: `stage "prod"`, `stages matching glob:test-*`, `stages labelled tier=web`. */
export function describeSelector(policy: PromotionPolicy): string {
  const selector: StageSelector = policy.stageSelector ?? { name: policy.stage };
  const parts: string[] = [];
  if (selector.name) {
    parts.push(
      isNamePattern(selector.name)
        ? `stages matching ${selector.name}`
        : `stage "${selector.name}"`,
    );
  }
  const labels = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = (selector.matchExpressions ?? []).map(describeRequirement);
  if (labels.length + exprs.length > 0) parts.push(`labelled ${[...labels, ...exprs].join(', ')}`);
  return parts.length > 0 ? parts.join(', ') : 'every stage';
}
