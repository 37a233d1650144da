import fs from 'node:fs/promises';
import path from 'node:path';
import type {
  SubscriptionArtifact,
  SubscriptionKind as PublicSubscriptionKind,
  SubscriptionKindContext,
  SubscriptionKindsExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import { ExpressionError } from '../expressions/expressions';
import { DEFAULT_EGRESS_POLICY } from '../integrations/http/egress';
import { moduleRequest } from '../integrations/http/moduleRequest';
import { silentLogger } from '../util/types';
import { nothingMatches } from './describeNoMatch';
import type { SubscriptionKind } from './SubscriptionKind';
import { findClash, KindClash } from './SubscriptionKinds';
import type { Discovery, Probe } from './types';

/*
 * Subscription kinds that backend modules add through
 * stagecoachSubscriptionKindsExtensionPoint. Discovery, freight, manifests and expressions
 * use them as they use git, image and chart, but their subscriber gets the public context
 * only (no registry client, no Git credentials), and what they answer is checked before it
 * is stored: their code is not the engine's.
 */

/** A subscription key and a freight field: a lower camel-case word, as Kargo's keys are. */
const KIND_NAME = /^[a-z][a-zA-Z0-9]*$/;
/** The expression function: a lower camel-case word ending in `From`, as `commitFrom`. */
const FUNCTION_NAME = /^[a-z][a-zA-Z0-9]*From$/;
/** Fields the API's Freight, or a request assembling it, has besides the kinds' own. */
const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'alias',
  'project',
  'origin',
  'artifactLabels',
  'createdAt',
  'currentlyIn',
  'verifiedIn',
  'approvedFor',
  'status',
]);

/** Longer calls are given up on: the discovery task holds the warehouse meanwhile. */
const CALL_LIMIT_MS = 120_000;
/** The most entries of a listing the warehouse's status keeps. */
const MAX_LISTED = 100;
/** The most one artifact may take as JSON: freight and listings are stored in full. */
const MAX_ARTIFACT_BYTES = 16 * 1024;
/** The most a label or detail shows. */
const MAX_LABEL_CHARS = 200;

/** Runs one call of a module's subscriber, giving up after CALL_LIMIT_MS. */
async function limited<T>(
  kind: PublicSubscriptionKind,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the ${kind.name} subscription's ${what} did not answer within ${
              CALL_LIMIT_MS / 1000
            } seconds`,
          ),
        ),
      CALL_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([call(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** An artifact of a module's kind as it may be stored: a JSON copy, or an Error saying why not. */
function checkedArtifact(
  kind: PublicSubscriptionKind,
  sub: SubscriptionArtifact,
  artifact: unknown,
): SubscriptionArtifact {
  const problem = (why: string) =>
    new Error(`the ${kind.name} subscription's discovery returned ${why}`);
  if (!artifact || typeof artifact !== 'object' || Array.isArray(artifact)) {
    throw problem('an artifact that is not an object');
  }
  let json: string;
  try {
    json = JSON.stringify(artifact);
  } catch {
    throw problem('an artifact that is not JSON');
  }
  if (json.length > MAX_ARTIFACT_BYTES) {
    throw problem(`an artifact larger than ${MAX_ARTIFACT_BYTES} bytes`);
  }
  const copy = JSON.parse(json) as SubscriptionArtifact;
  // the request's repoURL, freight's references and messages all rely on it
  if (copy.repoURL !== sub.repoURL) {
    throw problem("an artifact whose repoURL is not the subscription's");
  }
  return copy;
}

function checkedDiscovery(
  kind: PublicSubscriptionKind,
  sub: SubscriptionArtifact,
  found: unknown,
): Discovery<SubscriptionArtifact> {
  const { latest, listed } = (found ?? {}) as {
    latest?: unknown;
    listed?: unknown;
  };
  if (!Array.isArray(listed)) {
    throw new Error(
      `the ${kind.name} subscription's discovery returned no listed artifacts`,
    );
  }
  return {
    latest:
      latest === undefined ? undefined : checkedArtifact(kind, sub, latest),
    listed: listed
      .slice(0, MAX_LISTED)
      .map(
        a =>
          checkedArtifact(kind, sub, a) as unknown as Record<string, unknown>,
      ),
  };
}

function shortText(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text);
  return s.length > MAX_LABEL_CHARS ? `${s.slice(0, MAX_LABEL_CHARS)}…` : s;
}

/** The repository URL as requests and subscriptions are compared: no trailing slash. */
const sourceKey = (repoURL: string) => repoURL.trim().replace(/\/+$/, '');

/** A module's kind as the engine uses it. */
export function moduleKind(
  kind: PublicSubscriptionKind,
): SubscriptionKind<SubscriptionArtifact, SubscriptionArtifact, any> {
  const { manual } = kind;
  const label = (artifact: SubscriptionArtifact) => {
    try {
      const shown = kind.label(artifact);
      return { label: shortText(shown.label), detail: shortText(shown.detail) };
    } catch {
      // a label is no reason to hide freight
      return { label: artifact.repoURL, detail: `${kind.name} artifact` };
    }
  };
  return {
    name: kind.name,
    schema: kind.schema,
    field: kind.field,
    subscriber(deps) {
      const cacheDir = path.join(deps.cacheDir, 'kinds', kind.name);
      const ctx: SubscriptionKindContext = {
        logger: deps.logger ?? silentLogger,
        cacheDir,
        request: req =>
          moduleRequest(
            {
              egress: deps.egress ?? DEFAULT_EGRESS_POLICY,
              // the request's own timeout bounds it
              signal: new AbortController().signal,
            },
            req,
          ),
      };
      const subscriber = kind.subscriber(ctx);
      return {
        async probe(sub): Promise<Probe> {
          await fs.mkdir(cacheDir, { recursive: true });
          const probe = await limited(kind, 'probe', () =>
            subscriber.probe(sub),
          );
          if (typeof probe?.hash !== 'string') {
            throw new Error(
              `the ${kind.name} subscription's probe returned no hash`,
            );
          }
          return { hash: probe.hash, state: probe.state };
        },
        async discover(sub, probe) {
          const found = await limited(kind, 'discovery', () =>
            subscriber.discover(sub, probe),
          );
          return checkedDiscovery(kind, sub, found);
        },
      };
    },
    describe: sub => sub.repoURL,
    describeNoMatch: sub =>
      kind.describeNoMatch?.(sub) ?? nothingMatches(sub.repoURL, []),
    // the kind's name first: no module's reference can read as another kind's
    reference: artifact => `${kind.name}:${kind.reference(artifact)}`,
    expressionFunctions: (artifacts, owner) => ({
      [kind.expressionFunction]: (repoURL: unknown) => {
        const found = artifacts.find(a => a.repoURL === repoURL);
        if (!found) {
          throw new ExpressionError(
            `${owner} has no ${kind.name} artifact from ${String(repoURL)}`,
          );
        }
        return structuredClone(found);
      },
    }),
    label,
    listedLabel: entry => label(entry as unknown as SubscriptionArtifact).label,
    matchesChange(change, sub) {
      try {
        return kind.matchesChange?.(change, sub) === true;
      } catch {
        return false;
      }
    },
    manual: {
      requestSchema: manual.requestSchema,
      requestShape: manual.requestShape,
      describe: requested => manual.describe(requested),
      source: requested => requested.repoURL,
      belongs: (requested, sub) =>
        sourceKey(requested.repoURL) === sourceKey(sub.repoURL),
      match: (requested, listed) => ({
        entries: listed.filter(e =>
          manual.matches(requested, e as unknown as SubscriptionArtifact),
        ),
      }),
      isComplete: () => true,
    },
  };
}

function describeKind(kind: { name: string; description?: string }) {
  return `"${kind.name}"${kind.description ? ` (${kind.description})` : ''}`;
}

/** What is wrong with a kind a module adds, before it is compared with the others. */
function shapeProblem(kind: PublicSubscriptionKind): string | undefined {
  if (typeof kind?.name !== 'string' || !KIND_NAME.test(kind.name)) {
    return `its name ${JSON.stringify(
      kind?.name,
    )} is not a lower camel-case word (such as releaseFeed)`;
  }
  if (typeof kind.field !== 'string' || !KIND_NAME.test(kind.field)) {
    return `its field ${JSON.stringify(
      kind.field,
    )} is not a lower camel-case word (such as releases)`;
  }
  if (RESERVED_FIELDS.has(kind.field)) {
    return `its field "${kind.field}" is one Freight has already`;
  }
  if (
    typeof kind.expressionFunction !== 'string' ||
    !FUNCTION_NAME.test(kind.expressionFunction)
  ) {
    return `its expressionFunction ${JSON.stringify(
      kind.expressionFunction,
    )} is not a lower camel-case word ending in From (such as releaseFrom)`;
  }
  if (typeof kind.schema?.safeParse !== 'function') {
    return 'its schema is not a zod schema';
  }
  if (typeof kind.manual?.requestSchema?.safeParse !== 'function') {
    return 'its manual.requestSchema is not a zod schema';
  }
  for (const fn of ['subscriber', 'reference', 'label'] as const) {
    if (typeof kind[fn] !== 'function') return `it has no ${fn} function`;
  }
  for (const fn of ['describe', 'matches'] as const) {
    if (typeof kind.manual[fn] !== 'function')
      return `it has no manual.${fn} function`;
  }
  return undefined;
}

/**
 * The subscription kinds Warehouses may name: the built-in ones and those modules add. A
 * name, freight field or expression function that two kinds claim (SubscriptionKinds' own
 * check) is refused when the second is added, so the module that added it fails to start
 * (Backstage names it) with a message that names both kinds.
 */
export class SubscriptionKindRegistry {
  private readonly added: PublicSubscriptionKind[] = [];
  private readonly adapted: SubscriptionKind[] = [];
  private sealed = false;

  constructor(private readonly builtins: readonly SubscriptionKind[]) {}

  /** The implementation of the extension point. */
  readonly extensionPoint: SubscriptionKindsExtensionPoint = {
    addKinds: (...kinds) => this.add(kinds),
  };

  /** Adds all these kinds, or none of them. */
  add(kinds: PublicSubscriptionKind[]): void {
    if (this.sealed) {
      throw new Error(
        "subscription kinds can only be added while the backend starts, from a module's init",
      );
    }
    const added = [...this.added];
    const adapted = [...this.adapted];
    for (const kind of kinds) {
      const problem = shapeProblem(kind);
      if (problem) {
        throw new Error(
          `cannot add the subscription kind ${JSON.stringify(
            kind?.name,
          )}: ${problem}`,
        );
      }
      added.push(kind);
      adapted.push(moduleKind(kind));
      const clash = findClash([...this.builtins, ...adapted]);
      if (clash) throw this.clashError(kind, clash, added, adapted);
    }
    this.added.splice(0, this.added.length, ...added);
    this.adapted.splice(0, this.adapted.length, ...adapted);
  }

  /** Says which two kinds claim the same thing: a built-in one, another module's, or one of the same call. */
  private clashError(
    kind: PublicSubscriptionKind,
    clash: KindClash,
    added: readonly PublicSubscriptionKind[],
    adapted: readonly SubscriptionKind[],
  ): Error {
    const builtin = this.builtins.includes(clash.earlier);
    const index = adapted.indexOf(clash.earlier);
    const earlier = builtin
      ? `the built-in kind ${describeKind(clash.earlier)}`
      : `a kind added by ${
          index >= this.added.length ? 'the same call' : 'another module'
        }, ${describeKind(added[index])},`;
    return new Error(
      `cannot add the subscription kind ${describeKind(
        kind,
      )}: ${earlier} already claims ${clash.claim}; give ${
        builtin ? "the module's kind" : 'one of them'
      } another one`,
    );
  }

  /** The built-in kinds and the modules'; no kind can be added after this. */
  seal(): readonly SubscriptionKind[] {
    this.sealed = true;
    return [...this.builtins, ...this.adapted];
  }
}
