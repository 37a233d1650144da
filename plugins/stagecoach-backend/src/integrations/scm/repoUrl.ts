import type { ScmProviderKind } from './ScmCredentials';
import { ScmConfigError } from './ScmProvider';

/** Where a repository lives, from any of the URL forms people write for it. */
export interface RepoLocation {
  /** `https:` or `http:` (SSH URLs map to https, where the host's API is). */
  protocol: string;
  /** Host and port, as URL.host. */
  host: string;
  /** Path segments after the host, without `.git`. */
  segments: string[];
  /** The repository as an http(s) URL without credentials or `.git`. */
  webURL: string;
}

/**
 * Parses https://host/owner/repo(.git), ssh://git@host/owner/repo.git and the scp-like
 * git@host:owner/repo.git. Credentials in the URL are dropped.
 */
export function parseRepoURL(repoURL: string): RepoLocation {
  const text = repoURL.trim();
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(text);
  let protocol: string;
  let host: string;
  let path: string;
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    protocol = 'https:';
    host = scp[1];
    path = scp[2];
  } else {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ScmConfigError(`repoURL "${redactUserinfo(text)}" is not a URL of a Git repository`);
    }
    if (!['http:', 'https:', 'ssh:', 'git+ssh:'].includes(url.protocol)) {
      throw new ScmConfigError(`repoURL "${redactUserinfo(text)}" must be an https (or ssh) URL of a Git repository`);
    }
    protocol = url.protocol === 'http:' ? 'http:' : 'https:';
    // an SSH port is not the web port
    host = url.protocol.endsWith('ssh:') ? url.hostname : url.host;
    path = decodeURIComponent(url.pathname);
  }
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (segments.length < 2) {
    throw new ScmConfigError(`repoURL "${redactUserinfo(text)}" names no repository (expected <host>/<owner>/<repository>)`);
  }
  return { protocol, host, segments, webURL: `${protocol}//${host}/${segments.join('/')}` };
}

function redactUserinfo(text: string): string {
  return text.replace(/(\/\/)[^/@\s]+@/, '$1***@');
}

/** owner/repo: the last two segments (a host serving under a sub-path keeps its prefix before them). */
export function ownerAndRepo(loc: RepoLocation): { owner: string; repo: string } {
  const [owner, repo] = loc.segments.slice(-2);
  return { owner, repo };
}

/**
 * A GitLab project's full path (groups and subgroups included). A GitLab served under a
 * relative URL root (https://host/gitlab/...) has its API at <root>/api/v4, so that prefix
 * is removed.
 */
export function gitlabProjectPath(loc: RepoLocation, apiBaseUrl: string): string {
  let segments = loc.segments;
  const api = new URL(apiBaseUrl);
  const root = api.pathname.replace(/\/api\/v4\/?$/, '').split('/').filter(Boolean);
  if (api.host === loc.host && root.length > 0 && root.every((s, i) => segments[i] === s)) {
    segments = segments.slice(root.length);
  }
  // browser URLs of a page inside the project: https://gitlab.com/group/project/-/tree/main
  const dash = segments.indexOf('-');
  if (dash > 0) segments = segments.slice(0, dash);
  if (segments.length < 2) {
    throw new ScmConfigError(`repoURL "${loc.webURL}" names no GitLab project (expected <host>/<group>/<project>)`);
  }
  return segments.join('/');
}

/**
 * A Bitbucket Server repository's project key and slug, from a clone URL
 * (https://host/scm/PROJ/repo.git), a browser URL (https://host/projects/PROJ/repos/repo/browse)
 * or a personal repository (https://host/scm/~user/repo.git).
 */
export function bitbucketServerRepo(loc: RepoLocation): { project: string; slug: string } {
  const s = loc.segments;
  const scm = s.indexOf('scm');
  if (scm >= 0 && s.length >= scm + 3) return { project: s[scm + 1], slug: s[scm + 2] };
  const projects = s.findIndex((seg, i) => (seg === 'projects' || seg === 'users') && s[i + 2] === 'repos');
  if (projects >= 0 && s.length >= projects + 4) {
    const project = s[projects] === 'users' ? `~${s[projects + 1]}` : s[projects + 1];
    return { project, slug: s[projects + 3] };
  }
  const { owner, repo } = ownerAndRepo(loc);
  return { project: owner, slug: repo };
}

/**
 * The kind of host, guessed from its name, for a repository no integration is configured for
 * and no `provider` is set: the public hosts, and self-hosted ones named after their software.
 */
export function guessProvider(host: string): ScmProviderKind | undefined {
  const name = host.toLowerCase().replace(/:\d+$/, '');
  if (name === 'github.com' || name.endsWith('.ghe.com')) return 'github';
  if (name === 'gitlab.com') return 'gitlab';
  if (name === 'bitbucket.org') return 'bitbucketCloud';
  if (name === 'gitea.com' || name === 'codeberg.org') return 'gitea';
  const labels = name.split('.');
  if (labels.some(l => l.startsWith('github'))) return 'github';
  if (labels.some(l => l.startsWith('gitlab'))) return 'gitlab';
  if (labels.some(l => l.startsWith('gitea') || l.startsWith('forgejo'))) return 'gitea';
  if (labels.some(l => l.startsWith('bitbucket'))) return 'bitbucketServer';
  return undefined;
}

const API_PATHS: Record<Exclude<ScmProviderKind, 'bitbucketCloud'>, string> = {
  github: '/api/v3',
  gitlab: '/api/v4',
  gitea: '/api/v1',
  bitbucketServer: '/rest/api/1.0',
};

/** The API base a host of this kind has when nothing is configured for it. */
export function defaultApiBaseUrl(kind: ScmProviderKind, loc: RepoLocation): string {
  const origin = `${loc.protocol}//${loc.host}`;
  if (kind === 'github') {
    if (loc.host === 'github.com') return 'https://api.github.com';
    // GitHub Enterprise Cloud with data residency: <name>.ghe.com has api.<name>.ghe.com
    if (loc.host.endsWith('.ghe.com')) return `https://api.${loc.host}`;
  }
  if (kind === 'bitbucketCloud') return 'https://api.bitbucket.org/2.0';
  return `${origin}${API_PATHS[kind]}`;
}
