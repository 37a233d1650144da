/**
 * The REST API's client, generated from the OpenAPI document (`yarn generate:openapi` in
 * plugins/stagecoach-backend): one method per operation, named after its operationId, taking
 * `{ path, query, body }` and answering the fetch Response, typed by what the operation
 * answers. It asks the discoveryApi for the plugin's base URL and sends through the fetchApi
 * it is given (in the app, Backstage's, which adds the user's token); what a failed answer
 * means is the caller's to decide.
 */
export {
  DefaultApiClient as StagecoachApiClient,
  type RequestOptions,
  type TypedResponse,
} from './schema/openapi/generated';
