/**
 * A repository URL as people read it, without scheme, user, `.git` or trailing slash:
 * `https://github.com/acme/app.git` and `git@github.com:acme/app.git` → `github.com/acme/app`.
 * The UI's artifact labels are built on it, so it must stay as the frontend always wrote them.
 */
export function compactRepoURL(url: string): string {
  return url
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/^[^@/]+@/, '')
    .replace(/^([^/:]+):(?!\d+\/)/, '$1/')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}
