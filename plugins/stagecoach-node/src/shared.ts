/*
 * What every kind of extension is handed alike: a logger and an HTTP client under the
 * backend's egress policy. The contexts of steps, subscription kinds and providers name these
 * types.
 */

/**
 * Where an extension writes what it has to say: the promotion's log, or the backend's log for
 * a verification. Messages are plain text and must not carry secrets.
 *
 * @public
 */
export interface StagecoachLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * One HTTP request from a module's step, subscription kind or metric provider. It passes the backend's egress
 * policy (app-config `stagecoach.egress`) on every hop, redirects included.
 *
 * @public
 */
export interface StagecoachHttpRequest {
  url: string;
  /** Default `GET`. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** For the whole exchange, redirects and body included; default 30 s. */
  timeoutMs?: number;
  /** The answer's body is refused beyond this size; default 1 MiB. */
  maxResponseBytes?: number;
}

/**
 * The answer to a StagecoachHttpRequest, read in full. Any status is an answer: the caller
 * decides what a 404 means.
 *
 * @public
 */
export interface StagecoachHttpResponse {
  status: number;
  /** By lower-case name. */
  headers: Record<string, string>;
  body: Buffer;
}
