import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { redactSecrets } from '../../util/secrets';

/**
 * Finds an executable the way a shell does, on the backend's PATH as it is when the step
 * runs (not when the backend started), so an operator can add a tool without a restart.
 */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: keep looking
    }
  }
  return undefined;
}

/** A tool that exited non-zero; the message carries the end of its stderr, without credentials. */
export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    const tail = redactSecrets(stderr.trim().split('\n').filter(Boolean).slice(-5).join('; '));
    super(`${tool} failed${exitCode !== null ? ` (exit code ${exitCode})` : ''}${tail ? `: ${tail}` : ''}`);
    this.name = 'ToolError';
  }
}

export interface RunToolOptions {
  cwd: string;
  signal: AbortSignal;
  /** Added to a minimal environment (PATH, HOME, TMPDIR): the backend's own secrets stay out. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** How the failing command reads in messages, e.g. `helm template`. */
  label: string;
}

/** Runs an executable without a shell and returns its stdout. */
export function runTool(file: string, args: string[], options: RunToolOptions): Promise<string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...env, ...options.env },
        signal: options.signal,
        timeout: options.timeoutMs ?? 300_000,
        maxBuffer: 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout.toString());
          return;
        }
        if (options.signal.aborted) {
          reject(new Error(`${options.label} was stopped: the promotion was aborted`));
          return;
        }
        const code = typeof error.code === 'number' ? error.code : null;
        const why = error.killed ? `${stderr}\ntimed out` : stderr.toString() || error.message;
        reject(new ToolError(options.label, why, code));
      },
    );
  });
}
