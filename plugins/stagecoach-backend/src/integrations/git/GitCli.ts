import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GitCredentials } from '../scm/ScmCredentials';
import { redactSecrets, redactValues } from '../../util/secrets';

export interface GitIdentity {
  name: string;
  email: string;
}

export const DEFAULT_GIT_IDENTITY: GitIdentity = {
  name: 'Stagecoach',
  email: 'stagecoach@localhost',
};

/** A git command that failed: its message never carries credentials. */
export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    /** What git wrote to stdout (`push --porcelain` reports rejected refs there). */
    readonly stdout = '',
  ) {
    const first = redactSecrets(stderr.trim().split('\n').filter(Boolean).slice(-3).join('; '));
    super(`git ${redactSecrets(args.join(' '))} failed${first ? `: ${first}` : ''}`);
    this.name = 'GitError';
  }
}

/** Credentials for one repository URL, handed to git for requests under that URL only. */
export interface GitAuth {
  url: string;
  credentials: GitCredentials;
}

export interface GitRunOptions {
  cwd?: string;
  /**
   * Author and committer. `'repository'`: whatever the repository's own config says (git-clone
   * writes the promotion's identity there), so that an author chosen at clone time is kept.
   */
  identity?: GitIdentity | 'repository';
  timeoutMs?: number;
  /** Sent as an HTTP basic `Authorization` header, through the environment only. */
  auth?: GitAuth;
  signal?: AbortSignal;
  /** More command-line config for this run, e.g. `http.<url>.sslVerify=false`; isolationConfig's settings outrank it. */
  config?: [string, string][];
}

/** Folders of the backend's own, made once per process: an empty hooks folder and an empty HOME. */
let sandboxFolders: { hooks: string; home: string } | undefined;

function gitSandbox(): { hooks: string; home: string } {
  if (!sandboxFolders) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-git-'));
    sandboxFolders = { hooks: path.join(root, 'hooks'), home: path.join(root, 'home') };
    mkdirSync(sandboxFolders.hooks);
    mkdirSync(sandboxFolders.home);
  }
  return sandboxFolders;
}

/**
 * Settings every git run gets, as command-line config (GIT_CONFIG_COUNT), which outranks
 * whatever a repository's own `.git/config` says: no hooks, no fsmonitor command, no
 * credential helper, no signing program, and only HTTP(S) as a transport (no `file://`,
 * local paths, `ext::` commands, ssh or git://). HTTP redirects are not followed: the remote
 * URL is what the egress policy checked (checkGitRemote), and a redirect would lead past it.
 */
export function isolationConfig(): [string, string][] {
  return [
    ['core.hooksPath', gitSandbox().hooks],
    ['core.fsmonitor', 'false'],
    ['credential.helper', ''],
    ['commit.gpgSign', 'false'],
    ['tag.gpgSign', 'false'],
    ['protocol.allow', 'never'],
    ['protocol.file.allow', 'never'],
    ['protocol.ext.allow', 'never'],
    ['protocol.http.allow', 'always'],
    ['protocol.https.allow', 'always'],
    ['http.followRedirects', 'false'],
  ];
}

/**
 * A value from configuration (a branch, a tag, a URL) that git would take for an option:
 * refused before git runs, naming the field. Callers also put such values after `--`
 * where the command allows it.
 */
export class GitArgumentError extends Error {
  constructor(field: string, value: string) {
    super(`${field} "${value}" must not start with "-" (git would read it as an option)`);
    this.name = 'GitArgumentError';
  }
}

/** Throws GitArgumentError when `value` would read as an option on git's command line. */
export function refuseOptionLike(value: string, field: string): string {
  if (value.startsWith('-')) throw new GitArgumentError(field, value);
  return value;
}

/**
 * Runs the `git` CLI with an environment that ignores the machine's own git config and
 * never prompts, so results depend only on the arguments; and with the settings of
 * isolationConfig, so that nothing a repository holds makes git run a program.
 *
 * Credentials travel as `http.<url>.extraHeader` in GIT_CONFIG_* variables: not on the
 * command line (visible to every process), not in `.git/config` (it outlives the command),
 * and git sends them only to that URL.
 */
export async function runGit(args: string[], options: GitRunOptions = {}): Promise<string> {
  return (await runGitBytes(args, options)).toString();
}

/** runGit for output that is not text: a blob's bytes (`git cat-file blob <sha>`). */
export async function runGitBytes(args: string[], options: GitRunOptions = {}): Promise<Buffer> {
  const secrets = options.auth ? secretForms(options.auth.credentials) : [];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        encoding: 'buffer',
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 256 * 1024 * 1024,
        signal: options.signal,
        env: {
          PATH: process.env.PATH,
          // an empty HOME: no ~/.gitconfig, ~/.config/git/attributes or ignore rules of the machine's user
          HOME: gitSandbox().home,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: 'echo',
          ...identityEnv(options.identity ?? DEFAULT_GIT_IDENTITY),
          ...configEnv(options),
        },
      },
      (error, stdoutBytes, stderrBytes) => {
        if (error) {
          const stderr = stderrBytes.toString();
          const code = typeof error.code === 'number' ? error.code : null;
          let why = error.killed ? `${stderr}\ntimed out` : stderr || error.message;
          if (error.name === 'AbortError') why = 'aborted';
          reject(new GitError(args, redactValues(why, secrets), code, redactValues(stdoutBytes.toString(), secrets)));
        } else resolve(stdoutBytes);
      },
    );
  });
}

function identityEnv(identity: GitIdentity | 'repository'): Record<string, string> {
  if (identity === 'repository') return {};
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
  };
}

/** Config entries passed as GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n. */
function configEnv(options: GitRunOptions): Record<string, string> {
  // the caller's first: a later entry wins, so no caller's setting can undo the isolation
  const entries: [string, string][] = [...(options.config ?? []), ...isolationConfig()];
  // never let git guess an identity from the machine's user and host name
  if (options.identity === 'repository') entries.push(['user.useConfigOnly', 'true']);
  if (options.auth) {
    entries.push([`http.${options.auth.url}.extraHeader`, `Authorization: Basic ${basicHeader(options.auth.credentials)}`]);
  }
  const env: Record<string, string> = {};
  env.GIT_CONFIG_COUNT = String(entries.length);
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

function basicHeader(c: GitCredentials): string {
  return Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

/** True when git could not find an author or committer in the repository's config. */
export function isMissingIdentity(e: unknown): boolean {
  return e instanceof GitError && /identity unknown|auto-detection is disabled|empty ident/i.test(e.stderr);
}

/** Every form in which a credential could come back in git's output. */
function secretForms(c: GitCredentials): string[] {
  return [basicHeader(c), c.password, encodeURIComponent(c.password)];
}

/** True when git failed because the host wants (other) credentials. */
export function isAuthFailure(e: unknown): boolean {
  return (
    e instanceof GitError &&
    /Authentication failed|could not read (Username|Password)|HTTP 401|HTTP 403|returned error: 40[13]|invalid credentials/i.test(
      e.stderr,
    )
  );
}

export interface RemoteRef {
  name: string;
  /** The commit the ref points to (annotated tags are peeled). */
  commit: string;
}

/** `git ls-remote` of tags (or heads), with annotated tags peeled to their commits. */
export async function listRemoteRefs(
  repoURL: string,
  kind: 'tags' | 'heads',
  options: GitRunOptions = {},
): Promise<RemoteRef[]> {
  const out = await runGit(['ls-remote', `--${kind}`, '--', refuseOptionLike(repoURL, 'repoURL')], options);
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (!sha || !ref) continue;
    const name = ref.replace(/^refs\/(tags|heads)\//, '');
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  return [...refs].map(([name, sha]) => ({ name, commit: peeled.get(name) ?? sha }));
}

export interface RemoteBranchHead {
  /** The branch's name; undefined when the remote's HEAD names no branch (a server without symref support). */
  branch?: string;
  /** The ref to fetch: `refs/heads/<branch>`, or `HEAD`. */
  ref: string;
  /** The commit at its tip; undefined when the branch does not exist (or the repository is empty). */
  commit?: string;
}

/**
 * The tip of a remote branch (`git ls-remote <url> refs/heads/<branch>`) or, without a
 * branch, of the remote's default branch: what its HEAD points to (`git ls-remote --symref
 * <url> HEAD`). One round trip either way.
 */
export async function remoteBranchHead(
  repoURL: string,
  branch?: string,
  options: GitRunOptions = {},
): Promise<RemoteBranchHead> {
  const ref = branch ? `refs/heads/${branch}` : 'HEAD';
  const url = refuseOptionLike(repoURL, 'repoURL');
  const out = await runGit(['ls-remote', ...(branch ? [] : ['--symref']), '--', url, ref], options);
  const head: RemoteBranchHead = { branch, ref };
  for (const line of out.split('\n')) {
    const [left, name] = line.split('\t');
    if (name !== ref || !left) continue;
    const symref = /^ref: refs\/heads\/(.+)$/.exec(left);
    if (symref) {
      head.branch = symref[1];
      head.ref = `refs/heads/${symref[1]}`;
    } else if (/^[0-9a-f]{40,64}$/.test(left)) head.commit = left;
  }
  return head;
}
