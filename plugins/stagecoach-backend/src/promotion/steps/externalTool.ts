import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isolationConfig } from '../../integrations/git/GitCli';
import { redactSecrets } from '../../util/secrets';
import { StepConfigError } from '../workDir';

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

/**
 * The environment a tool runs in, made for one step run and removed after it: an empty
 * HOME (no ~/.kube/config, ~/.config/helm, ~/.gitconfig, kustomize plugins of the machine's
 * user), Helm's folders and an empty plugins folder inside it, no KUBECONFIG, and for the
 * git that kustomize or helm may start to fetch a remote base, the settings runGit uses (no
 * hooks, no system or global config, HTTP(S) only).
 */
export interface ToolHome {
  /** The folder the run's files live in (HOME is inside it). */
  dir: string;
  env: Record<string, string>;
}

/** Runs `use` with a ToolHome of its own; the folder is removed afterwards, whatever happens. */
export async function withToolHome<T>(use: (home: ToolHome) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-tool-'));
  try {
    const home = path.join(dir, 'home');
    const helm = path.join(dir, 'helm');
    await fs.mkdir(home);
    await fs.mkdir(path.join(helm, 'plugins'), { recursive: true });
    const git = isolationConfig();
    const env: Record<string, string> = {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      HELM_CACHE_HOME: path.join(helm, 'cache'),
      HELM_CONFIG_HOME: path.join(helm, 'config'),
      HELM_DATA_HOME: path.join(helm, 'data'),
      HELM_PLUGINS: path.join(helm, 'plugins'),
      HELM_REPOSITORY_CONFIG: path.join(helm, 'config', 'repositories.yaml'),
      HELM_REGISTRY_CONFIG: path.join(helm, 'config', 'registry', 'config.json'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: String(git.length),
    };
    git.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    return await use({ dir, env });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * A value from step config that goes on a tool's command line: refused when the tool would
 * read it as an option, with a message naming the field.
 */
export function notAnOption(value: string, field: string): string {
  if (value.startsWith('-')) {
    throw new StepConfigError(`${field} "${value}" must not start with "-" (it would be read as an option)`);
  }
  return value;
}

export interface RunToolOptions {
  cwd: string;
  signal: AbortSignal;
  /** The run's own HOME, Helm folders and git settings (withToolHome). */
  home: ToolHome;
  /** Added to the environment; the backend's own variables (and secrets) never are. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** How the failing command reads in messages, e.g. `helm template`. */
  label: string;
}

/**
 * Runs an executable without a shell and returns its stdout. Its environment is PATH and
 * TMPDIR of the backend's, the ToolHome's, and `env`: nothing else of the backend's.
 */
export function runTool(file: string, args: string[], options: RunToolOptions): Promise<string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...env, ...options.home.env, ...options.env },
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
