import type { DeepLink } from '@stagecoach/plugin-stagecoach-common';
import type { ExprFunction } from '../expressions/expressions';
import { evaluate, evaluateTemplate, unwrapExpression } from '../expressions/expressions';
import { valueFunctions } from '../expressions/valueFunctions';
import type { DeepLinkSpec } from '../manifests/projectConfig';

/** What a link's expressions see: names (`freight`, `stage`, `project`) and the artifact functions. */
export interface LinkScope {
  values: Record<string, unknown>;
  functions: Record<string, ExprFunction>;
}

/** The most characters of a link's text kept: a URL or title past this is cut, and said so. */
const MAX_TEXT = 2048;

/**
 * A ProjectConfig's `freightLinks` or `stageLinks` for one freight or stage, as Kargo shows
 * them: `if` (an expression; false leaves the link out), `title`, `url` and `description`
 * (text with `${{ }}` expressions) evaluated on the backend's evaluator. A link whose
 * expressions fail, or whose URL is not http(s) (a `javascript:` URL would run in whoever
 * opens it), is kept with its written title and an `error` instead of a URL, so that a typo
 * shows where it is rather than hiding the link.
 */
export function evaluateLinks(specs: readonly DeepLinkSpec[] | undefined, scope: LinkScope): DeepLink[] {
  const env = { values: scope.values, functions: { ...valueFunctions, ...scope.functions } };
  const out: DeepLink[] = [];
  for (const spec of specs ?? []) {
    try {
      if (spec.if !== undefined) {
        const shown = evaluate(unwrapExpression(spec.if), env);
        if (typeof shown !== 'boolean') throw new Error(`if must be true or false, but it is ${JSON.stringify(shown) ?? 'undefined'}`);
        if (!shown) continue;
      }
      const title = text(evaluateTemplate(spec.title, env), 'title');
      const url = text(evaluateTemplate(spec.url, env), 'url');
      if (!/^https?:\/\//i.test(url)) throw new Error(`url must be an http(s) URL, but it is "${url.slice(0, 200)}"`);
      const description = spec.description === undefined ? undefined : text(evaluateTemplate(spec.description, env), 'description');
      out.push({ title, url, ...(description ? { description } : {}) });
    } catch (e) {
      out.push({ title: spec.title.slice(0, MAX_TEXT), error: (e as Error).message.slice(0, MAX_TEXT) });
    }
  }
  return out;
}

function text(value: unknown, field: string): string {
  if (value === null || value === undefined) throw new Error(`${field} is empty`);
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  if (s.length > MAX_TEXT) throw new Error(`${field} is longer than ${MAX_TEXT} characters`);
  return s;
}
