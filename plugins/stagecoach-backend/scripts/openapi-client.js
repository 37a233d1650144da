/*
 * The typed client of the REST contract, written for generate-openapi.js into
 * stagecoach-common's src/schema/openapi/generated/apis/Api.client.ts.
 *
 * Its shape is the one `backstage-repo-tools package schema openapi generate --client-package`
 * gives (Backstage's catalog and scaffolder clients have it): a DefaultApiClient with one method
 * per operationId, taking `{ path, query, body }` and an optional token, sending through an
 * injected fetchApi to the base URL the discoveryApi gives for the plugin, and answering the
 * Response, typed by the operation's answers; the caller decides what a failure means. The
 * request and answer types are the openapi-typescript `operations` the models hold, so the
 * client and the models cannot disagree.
 *
 * It sends only what the request needs: JSON with a Content-Type when there is a body, no
 * header at all otherwise (a GET with a Content-Type is a CORS preflight from the app's origin),
 * and a plain GET is fetch's default request.
 */

/** The parameter styles the client serializes: path segments and form-style query values. */
function checkParameter(operationId, parameter) {
  if (parameter.in !== 'path' && parameter.in !== 'query') {
    throw new Error(
      `${operationId}: ${parameter.in} parameter ${parameter.name}: the client sends path and query parameters only`,
    );
  }
  const style =
    parameter.style ?? (parameter.in === 'path' ? 'simple' : 'form');
  const explode = parameter.explode ?? style === 'form';
  const type = parameter.schema?.type;
  if (
    (parameter.in === 'path' &&
      (style !== 'simple' ||
        !['string', 'integer', 'number'].includes(type))) ||
    (parameter.in === 'query' &&
      (style !== 'form' || !explode || type === 'object'))
  ) {
    throw new Error(
      `${operationId}: ${parameter.in} parameter ${parameter.name} (${style}, ${type}): the client cannot serialize it`,
    );
  }
}

const lowerFirst = s => s.charAt(0).toLowerCase() + s.slice(1);

/** A JSDoc comment line: the text, without what would end the comment early. */
const doc = text =>
  String(text).replace(/\s+/g, ' ').trim().replace(/\*\//g, '*\\/');

/** The request type of one operation: its path, query and JSON body, from `operations`. */
function requestType({ operation, parameters }, resolveRef) {
  const id = operation.operationId;
  const op = `operations['${id}']`;
  const fields = [];
  if (parameters.some(p => p.in === 'path')) {
    fields.push(`path: ${op}['parameters']['path'];`);
  }
  const query = parameters.filter(p => p.in === 'query');
  if (query.length) {
    fields.push(
      query.some(p => p.required)
        ? `query: NonNullable<${op}['parameters']['query']>;`
        : `query?: ${op}['parameters']['query'];`,
    );
  }
  const requestBody = resolveRef(operation.requestBody);
  if (requestBody) {
    if (!requestBody.content?.['application/json']) {
      throw new Error(
        `${id}: the client sends JSON bodies only, and this operation takes none`,
      );
    }
    fields.push(
      `body${
        requestBody.required ? '' : '?'
      }: NonNullable<${op}['requestBody']>['content']['application/json'];`,
    );
  }
  return {
    fields,
    required: fields.some(f => !/^\w+\?:/.test(f)),
  };
}

/** The union of an operation's successful JSON answers, `void` when it has none. */
function responseType({ operation }, resolveRef) {
  const op = `operations['${operation.operationId}']`;
  const answers = Object.keys(operation.responses ?? {})
    .filter(code => /^2\d\d$/.test(code))
    .filter(
      code =>
        resolveRef(operation.responses[code])?.content?.['application/json'],
    )
    .map(code => `${op}['responses'][${code}]['content']['application/json']`);
  return answers.length ? answers.join(' | ') : 'void';
}

function methodSource(entry, resolveRef) {
  const { route, method, operation, parameters } = entry;
  const id = operation.operationId;
  for (const parameter of parameters) checkParameter(id, parameter);
  const { fields, required } = requestType(entry, resolveRef);
  const uses = name => fields.some(f => f.startsWith(name));
  const request =
    uses('path') || uses('query') || uses('body') ? 'request' : '_request';
  const uri = route.replace(
    /\{(\w+)\}/g,
    (_, name) => `\${encodeURIComponent(request.path.${name})}`,
  );
  const query = uses('query') ? '${queryString(request.query)}' : '';
  const body = uses('body') ? 'request.body' : 'undefined';
  const summary = operation.summary ?? operation.description;
  return `
  /**
${
  summary ? `   * ${doc(summary)}\n` : ''
}   * \`${method.toUpperCase()} ${route}\`
   */
  public async ${lowerFirst(id)}(
    ${request}: ${id}${required ? '' : ' = {}'},
    options?: RequestOptions,
  ): Promise<TypedResponse<${responseType(entry, resolveRef)}>> {
    const baseUrl = await this.discoveryApi.getBaseUrl(pluginId);
    const uri = \`${uri}${query}\`;
    return await this.fetchApi.fetch(
      \`\${baseUrl}\${uri}\`,
      requestInit('${method.toUpperCase()}', ${body}, options),
    );
  }`;
}

/**
 * Api.client.ts for the given operations (generate-openapi.js's operationsOf). `modelNames`
 * are the names the models module exports: a request type may not take one of them, since
 * the package exports both.
 */
function clientSource({ header, operations, resolveRef, modelNames }) {
  const names = operations.map(o => o.operation.operationId);
  const taken = names.filter(
    n =>
      modelNames.includes(n) ||
      ['TypedResponse', 'RequestOptions', 'DefaultApiClient'].includes(n),
  );
  if (taken.length) {
    throw new Error(
      `operationIds that a model or the client already names: ${taken.join(
        ', ',
      )}`,
    );
  }
  const types = operations.map(entry => {
    const { fields } = requestType(entry, resolveRef);
    return `/** The request of \`${entry.method.toUpperCase()} ${
      entry.route
    }\`. */
export type ${entry.operation.operationId} = {${
      fields.length ? `\n${fields.join('\n')}\n` : ''
    }};`;
  });
  return `${header}
import type { operations } from '../models';
import { pluginId } from '../pluginId';

/** A Response whose json() is typed by what the operation answers. */
export type TypedResponse<T> = Omit<Response, 'json'> & {
  json: () => Promise<T>;
};

/** Options of one request. */
export interface RequestOptions {
  /** A Backstage token to send as the bearer; without it, the fetchApi decides (the app's adds the user's). */
  token?: string;
}

${types.join('\n\n')}

/** \`?name=value&...\` of the query parameters that have a value, '' when none has; an array repeats its name. */
function queryString(query: object | undefined): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      pairs.push(\`\${encodeURIComponent(name)}=\${encodeURIComponent(String(item))}\`);
    }
  }
  return pairs.length ? \`?\${pairs.join('&')}\` : '';
}

/** The fetch init of a request: only what it needs, and none for a plain GET (fetch's default). */
function requestInit(
  method: string,
  body: unknown,
  options: RequestOptions | undefined,
): RequestInit | undefined {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (options?.token) headers.Authorization = \`Bearer \${options.token}\`;
  const hasHeaders = Object.keys(headers).length > 0;
  if (method === 'GET' && !hasHeaders) return undefined;
  return {
    method,
    ...(hasHeaders && { headers }),
    ...(body !== undefined && { body: JSON.stringify(body) }),
  };
}

/** The REST API of the plugin, one method per operation of the OpenAPI document. */
export class DefaultApiClient {
  private readonly discoveryApi: { getBaseUrl(pluginId: string): Promise<string> };
  private readonly fetchApi: { fetch: typeof fetch };

  constructor(options: {
    discoveryApi: { getBaseUrl(pluginId: string): Promise<string> };
    /** Backstage's fetchApi in the app (it adds the user's token); the global fetch when left out. */
    fetchApi?: { fetch: typeof fetch };
  }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi ?? { fetch: globalThis.fetch.bind(globalThis) };
  }
${operations.map(entry => methodSource(entry, resolveRef)).join('\n')}
}
`;
}

module.exports = { clientSource };
