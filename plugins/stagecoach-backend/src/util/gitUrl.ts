/** Lower-cases scheme and host, drops credentials, a trailing `/` and `.git`: one repository, one spelling. */
export function normalizeGitURL(repoURL: string): string {
  try {
    const u = new URL(repoURL);
    const path = u.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
    return `${u.protocol}//${u.host.toLowerCase()}${path}`;
  } catch {
    return repoURL
      .trim()
      .replace(/\/+$/, '')
      .replace(/\.git$/, '');
  }
}
