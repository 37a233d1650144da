import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GitCommit } from '@stagecoach/plugin-stagecoach-common';
import type { GitSubscription } from '../../manifests/schemas';
import { listRemoteRefs, runGit } from '../../integrations/git/GitCli';
import { normalizeGitURL } from '../freightIdentity';
import { selectTags, TagCandidate } from './selectTags';
import { Discovery, Probe, Subscriber } from '../types';

/**
 * Discovers commits for a git subscription. The remote's tags come from `git ls-remote`;
 * NewestTag additionally needs tag dates, read from a blob-less mirror kept under the
 * cache directory.
 */
export class GitSubscriber implements Subscriber<GitSubscription, GitCommit> {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly cacheDir: string) {}

  /** The digest of the remote's tags (`git ls-remote`): cheap, tells whether anything moved. */
  async probe(sub: GitSubscription): Promise<Probe> {
    const refs = await listRemoteRefs(sub.repoURL, 'tags');
    const hash = createHash('sha256')
      .update(refs.map(r => `${r.name} ${r.commit}`).sort().join('\n'))
      .digest('hex');
    const tags: TagCandidate[] = refs.map(r => ({ tag: r.name, commit: r.commit }));
    return { hash, state: tags };
  }

  async discover(sub: GitSubscription, probe: Probe): Promise<Discovery<GitCommit>> {
    const candidates =
      sub.commitSelectionStrategy === 'NewestTag' ? await this.tagsWithDates(sub.repoURL) : (probe.state as TagCandidate[]);
    const commits: GitCommit[] = selectTags(candidates, sub).map(c => ({ repoURL: sub.repoURL, id: c.commit, tag: c.tag }));
    return { latest: commits[0], listed: commits.map(c => ({ ...c })) };
  }

  private async tagsWithDates(repoURL: string): Promise<TagCandidate[]> {
    const key = createHash('sha1').update(normalizeGitURL(repoURL)).digest('hex');
    const dir = path.join(this.cacheDir, 'git', key);
    return this.exclusive(key, async () => {
      await fs.mkdir(dir, { recursive: true });
      await runGit(['init', '-q', '--bare'], { cwd: dir });
      await runGit(['fetch', '-q', '--prune', '--force', '--filter=blob:none', repoURL, '+refs/tags/*:refs/tags/*'], {
        cwd: dir,
      });
      const out = await runGit(
        ['for-each-ref', '--format=%(refname:short)\t%(objectname)\t%(*objectname)\t%(creatordate:iso-strict)', 'refs/tags'],
        { cwd: dir },
      );
      return out
        .split('\n')
        .filter(Boolean)
        .map(line => {
          const [tag, obj, peeled, date] = line.split('\t');
          return { tag, commit: peeled || obj, createdAt: new Date(date).toISOString() };
        });
    });
  }

  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(key, next.catch(() => undefined));
    return next;
  }
}
