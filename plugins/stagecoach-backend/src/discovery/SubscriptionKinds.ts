import type { ArtifactLabel } from '@stagecoach/plugin-stagecoach-common';
import { artifactRecord } from '../expressions/artifactRecords';
import { ExpressionError, ExprFunction } from '../expressions/expressions';
import type { Subscription } from '../manifests/schemas';
import {
  FreightArtifacts,
  freightId as freightIdOf,
} from '../store/freightIdentity';
import type {
  SourceChange,
  SubscriberDeps,
  SubscriptionKind,
} from './SubscriptionKind';
import type { Subscriber } from './types';

/** The subscribers of an engine, by kind name: built once, shared by discovery and freight assembled by hand. */
export type Subscribers = ReadonlyMap<string, Subscriber<any, any>>;

/** Freight an expression can reach: its artifacts, how errors name it, its warehouse. */
interface FreightSource {
  artifacts: FreightArtifacts;
  owner: string;
  warehouse?: string;
}

/**
 * Where the freight whose artifacts expressions read comes from, and the freight the stage
 * holds from other warehouses (Kargo's freight collection), which an origin argument
 * (`commitFrom(repo, warehouse("x"))`) reaches.
 */
export interface FreightCollection {
  warehouse: string;
  /** By warehouse; absent where no other freight can be reached (freight creation criteria). */
  held?: ReadonlyMap<string, { artifacts: FreightArtifacts; owner: string }>;
}

/** What `warehouse("x")` gives: an origin argument. */
function isOrigin(v: unknown): v is { kind: 'Warehouse'; name: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { kind?: unknown }).kind === 'Warehouse' &&
    typeof (v as { name?: unknown }).name === 'string'
  );
}

/** Two kinds that claim the same thing, and what (`the name "git"`). */
export interface KindClash {
  earlier: SubscriptionKind;
  later: SubscriptionKind;
  claim: string;
}

/** The expression functions a kind offers, by name. */
function functionNames(kind: SubscriptionKind): string[] {
  return Object.keys(kind.expressionFunctions([], 'no freight'));
}

/**
 * The first thing two of these kinds both claim: a subscription key, a freight field or an
 * expression function (the engine merges every kind's functions, so one would hide another).
 */
export function findClash(
  kinds: readonly SubscriptionKind[],
): KindClash | undefined {
  for (const [i, later] of kinds.entries()) {
    const laterFunctions = functionNames(later);
    for (const earlier of kinds.slice(0, i)) {
      if (earlier.name === later.name)
        return { earlier, later, claim: `the name "${later.name}"` };
      if (earlier.field === later.field)
        return { earlier, later, claim: `the freight field "${later.field}"` };
      const shared = functionNames(earlier).find(f =>
        laterFunctions.includes(f),
      );
      if (shared)
        return { earlier, later, claim: `the expression function "${shared}"` };
    }
  }
  return undefined;
}

/**
 * The subscription kinds an engine knows, in registration order (the order of a freight's
 * artifact fields, of messages and of labels). Whatever works on subscriptions or artifacts
 * of any kind goes through here instead of naming the kinds.
 */
export class SubscriptionKinds {
  readonly all: readonly SubscriptionKind[];

  constructor(kinds: readonly SubscriptionKind[]) {
    const clash = findClash(kinds);
    if (clash) {
      throw new Error(
        `subscription kinds "${clash.earlier.name}" and "${clash.later.name}" both claim ${clash.claim}`,
      );
    }
    this.all = kinds;
  }

  /** The kind a Warehouse subscription names, and its settings. */
  of(subscription: Subscription): {
    kind: SubscriptionKind;
    sub: { repoURL: string };
  } {
    const kind = this.all.find(k => subscription[k.name] !== undefined);
    if (!kind) {
      // stored before its kind was removed from this backend
      const named = Object.keys(subscription).find(k => k !== 'name') ?? 'unnamed';
      throw new Error(
        `${named} subscriptions are not available in this backend`,
      );
    }
    return { kind, sub: subscription[kind.name] as { repoURL: string } };
  }

  /** Each kind's subscriber, built from what the engine shares. */
  subscribers(deps: SubscriberDeps): Subscribers {
    return new Map(this.all.map(k => [k.name, k.subscriber(deps)]));
  }

  /** Freight without artifacts: an empty list per kind. */
  emptyArtifacts(): FreightArtifacts {
    return Object.fromEntries(
      this.all.map(k => [k.field, []]),
    ) as unknown as FreightArtifacts;
  }

  /** The artifacts of one kind (none when the freight was stored before the kind existed). */
  artifactsOf(artifacts: FreightArtifacts, kind: SubscriptionKind): unknown[] {
    return artifacts[kind.field] ?? [];
  }

  /** Every artifact's reference in the freight ID (FreightStore computes the ID from them). */
  references(artifacts: FreightArtifacts): string[] {
    return this.all.flatMap(k =>
      this.artifactsOf(artifacts, k).map(a => k.reference(a)),
    );
  }

  /** The ID of the freight these artifacts from this warehouse make. */
  freightId(warehouse: string, artifacts: FreightArtifacts): string {
    return freightIdOf(warehouse, this.references(artifacts));
  }

  /**
   * `commitFrom`, `imageFrom`, `chartFrom`, …: over these artifacts; `owner` names them in
   * errors. What they return reads by Stagecoach's and Kargo's field names, and any other
   * field is an error (artifactRecords). A last argument `warehouse("x")` (an origin) picks
   * the freight of that warehouse: these artifacts' own (`collection.warehouse`), or what the
   * stage holds from another (`collection.held`); without one, an artifact these artifacts
   * lack is looked for in what the stage holds from other warehouses too, as Kargo looks
   * through a stage's freight collection.
   */
  expressionFunctions(
    artifacts: FreightArtifacts,
    owner: string,
    collection?: FreightCollection,
  ): Record<string, ExprFunction> {
    const own: FreightSource = { artifacts, owner, warehouse: collection?.warehouse };
    const held = [...(collection?.held ?? new Map()).entries()]
      .filter(([w]) => w !== collection?.warehouse)
      .map(([warehouse, f]): FreightSource => ({ ...f, warehouse }));
    return Object.assign(
      { artifactFrom: this.artifactFrom(own, held, collection) },
      ...this.all.map(kind => {
        const names = Object.keys(kind.expressionFunctions([], owner));
        return Object.fromEntries(
          names.map(fn => [fn, this.artifactFunction(kind, fn, own, held, collection)]),
        );
      }),
    );
  }

  /**
   * `artifactFrom(repoURL[, warehouse("x")])`: the artifact of any kind from that source (a
   * module's kind, say), as Kargo's artifactFrom reads a generic subscription's.
   */
  private artifactFrom(
    own: FreightSource,
    held: FreightSource[],
    collection: FreightCollection | undefined,
  ): ExprFunction {
    return (...given) => {
      const last = given[given.length - 1];
      const origin = isOrigin(last) ? last.name : undefined;
      const [repoURL, ...rest] = origin === undefined ? given : given.slice(0, -1);
      if (typeof repoURL !== 'string' || rest.length > 0) {
        throw new ExpressionError('artifactFrom(repoURL[, warehouse("x")]) needs the source\'s URL');
      }
      let source = own;
      if (origin !== undefined && collection && origin !== collection.warehouse) {
        const found = held.find(h => h.warehouse === origin);
        if (!found) throw new ExpressionError(`artifactFrom(..., warehouse("${origin}")): the stage holds no freight from warehouse "${origin}"`);
        source = found;
      }
      for (const kind of this.all) {
        const artifact = this.artifactsOf(source.artifacts, kind).find(
          a => (a as { repoURL?: unknown }).repoURL === repoURL,
        );
        if (artifact) return artifactRecord(artifact as object, `artifactFrom(${JSON.stringify(repoURL)})`, kind.artifactFields);
      }
      const has = this.all.flatMap(k =>
        this.artifactsOf(source.artifacts, k).map(a => `${k.name} ${String((a as { repoURL?: unknown }).repoURL)}`),
      );
      throw new ExpressionError(
        `${source.owner} has no artifact from ${repoURL} (it has: ${has.join(', ') || 'no artifacts'})`,
      );
    };
  }

  /** One kind's function, over the freight its origin argument names. */
  private artifactFunction(
    kind: SubscriptionKind,
    fn: string,
    own: FreightSource,
    held: FreightSource[],
    collection: FreightCollection | undefined,
  ): ExprFunction {
    return (...given) => {
      const last = given[given.length - 1];
      const origin = isOrigin(last) ? last.name : undefined;
      const args = origin === undefined ? given : given.slice(0, -1);
      const what = `${fn}(${args.map(a => JSON.stringify(a)).join(', ')})`;
      const find = (source: FreightSource): unknown =>
        kind.expressionFunctions(this.artifactsOf(source.artifacts, kind), source.owner)[fn](...args);
      const record = (artifact: unknown) =>
        artifactRecord(artifact as object, what, kind.artifactFields);
      if (origin !== undefined) {
        if (!collection || origin === collection.warehouse) return record(find(own));
        const source = held.find(h => h.warehouse === origin);
        if (!source) {
          const others = held.map(h => `"${h.warehouse}"`).join(', ');
          throw new ExpressionError(
            collection.held
              ? `${fn}(..., warehouse("${origin}")): the stage holds no freight from warehouse "${origin}" (${own.owner} comes from "${collection.warehouse}"${others ? `; the stage holds freight from ${others}` : ''})`
              : `${fn}(..., warehouse("${origin}")): ${own.owner} comes from warehouse "${collection.warehouse}", and no other warehouse's freight can be reached here`,
          );
        }
        return record(find(source));
      }
      try {
        return record(find(own));
      } catch (e) {
        if (!(e instanceof ExpressionError) || held.length === 0) throw e;
        const found = held.flatMap(h => {
          try {
            return [{ h, artifact: find(h) }];
          } catch {
            return [];
          }
        });
        if (found.length === 0) throw e;
        if (found.length > 1) {
          throw new ExpressionError(
            `${what}: the stage holds it from several warehouses (${found
              .map(f => `"${f.h.warehouse}"`)
              .join(', ')}): name one, as in ${fn}(..., warehouse("${found[0].h.warehouse}"))`,
          );
        }
        return record(found[0].artifact);
      }
    };
  }

  /** The artifacts as the API's Freight carries them: a list per kind's field. */
  artifactFields(artifacts: FreightArtifacts): Record<string, unknown[]> {
    return Object.fromEntries(
      this.all.map(k => [k.field, this.artifactsOf(artifacts, k)]),
    );
  }

  /** How the UI shows each artifact, kind by kind. */
  labels(artifacts: FreightArtifacts): ArtifactLabel[] {
    return this.all.flatMap(k =>
      this.artifactsOf(artifacts, k).map(a => ({
        kind: k.name,
        ...k.label(a),
      })),
    );
  }

  /** Whether a change a webhook announced concerns the subscription. */
  matchesChange(change: SourceChange, subscription: Subscription): boolean {
    const kind = this.all.find(k => subscription[k.name] !== undefined);
    return !!kind && kind.matchesChange(change, subscription[kind.name]);
  }
}
