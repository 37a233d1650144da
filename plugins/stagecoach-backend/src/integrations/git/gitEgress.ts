import { EgressPolicy, EgressRefusedError } from '../http/egress';
import { shownUrl } from '../http/exchange';
import { redactSecrets } from '../../util/secrets';

/**
 * The egress policy (app-config `stagecoach.egress`) for Git remotes: a remote URL from a
 * manifest (git-clone's repoURL, the origin git-push pushes to, a submodule, a warehouse's
 * repoURL) passes it before git runs. Its host name is resolved here and every address it
 * resolves to is checked, as for HTTP requests.
 *
 * git resolves the name again when it connects: between the two lookups a name whose DNS
 * answer changes (DNS rebinding) could lead git to an address this check did not see. That
 * window is what remains; git gets no proxy or fixed address here to close it. Redirects
 * cannot widen it: runGit turns them off (http.followRedirects=false).
 */
export async function checkGitRemote(policy: EgressPolicy, remote: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    // git takes more than URLs (host:path, local paths); none of them is HTTP(S), which is all runGit allows
    throw new EgressRefusedError('it is not an http:// or https:// URL', `"${redactSecrets(remote)}"`);
  }
  const shown = shownUrl(url);
  policy.checkUrl(url, shown);
  await policy.checkResolved(url, shown);
}
