import { execFile } from 'node:child_process';
import { redactSecrets } from '../../util/secrets';

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
  ) {
    const first = redactSecrets(stderr.trim().split('\n').filter(Boolean).slice(-3).join('; '));
    super(`git ${redactSecrets(args.join(' '))} failed${first ? `: ${first}` : ''}`);
    this.name = 'GitError';
  }
}

/**
 * Runs the `git` CLI with an environment that ignores the machine's own git config and
 * never prompts, so results depend only on the arguments.
 */
export async function runGit(
  args: string[],
  options: { cwd?: string; identity?: GitIdentity; timeoutMs?: number } = {},
): Promise<string> {
  const identity = options.identity ?? DEFAULT_GIT_IDENTITY;
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 256 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: 'echo',
          GIT_AUTHOR_NAME: identity.name,
          GIT_AUTHOR_EMAIL: identity.email,
          GIT_COMMITTER_NAME: identity.name,
          GIT_COMMITTER_EMAIL: identity.email,
        },
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          const why = error.killed ? `${stderr}\ntimed out` : stderr || error.message;
          reject(new GitError(args, why, code));
        } else resolve(stdout.toString());
      },
    );
  });
}

export interface RemoteRef {
  name: string;
  /** The commit the ref points to (annotated tags are peeled). */
  commit: string;
}

/** `git ls-remote` of tags (or heads), with annotated tags peeled to their commits. */
export async function listRemoteRefs(repoURL: string, kind: 'tags' | 'heads'): Promise<RemoteRef[]> {
  const out = await runGit(['ls-remote', `--${kind}`, repoURL]);
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
export async function remoteBranchHead(repoURL: string, branch?: string): Promise<RemoteBranchHead> {
  const ref = branch ? `refs/heads/${branch}` : 'HEAD';
  const out = await runGit(['ls-remote', ...(branch ? [] : ['--symref']), repoURL, ref]);
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
