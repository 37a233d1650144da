/*
 * Sample deliveries, written for these tests after each sender's documented shape and trimmed
 * to the fields the receivers read plus a few neighbours, so the samples stay recognisable.
 */

export const githubPush = {
  ref: 'refs/heads/main',
  before: '5d3c0a8f9e0b7c1d2e3f4a5b6c7d8e9f0a1b2c3d',
  after: '9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6',
  created: false,
  deleted: false,
  forced: false,
  repository: {
    id: 734021,
    name: 'api',
    full_name: 'acme/api',
    private: true,
    html_url: 'https://github.com/acme/api',
    url: 'https://github.com/acme/api',
    git_url: 'git://github.com/acme/api.git',
    ssh_url: 'git@github.com:acme/api.git',
    clone_url: 'https://github.com/acme/api.git',
    default_branch: 'main',
  },
  pusher: { name: 'octo-dev', email: 'octo-dev@example.com' },
  head_commit: {
    id: '9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6',
    message: 'Bump the chart to 1.4.0',
    timestamp: '2025-03-11T09:12:44Z',
  },
};

export const githubPing = {
  zen: 'Keep it logically awesome.',
  hook_id: 48211937,
  hook: { type: 'Repository', id: 48211937, events: ['push', 'package'], active: true },
  repository: { full_name: 'acme/api', html_url: 'https://github.com/acme/api' },
};

export const githubPackagePublished = {
  action: 'published',
  package: {
    id: 2203311,
    name: 'api',
    namespace: 'acme',
    ecosystem: 'CONTAINER',
    package_type: 'CONTAINER',
    html_url: 'https://github.com/orgs/acme/packages/container/package/api',
    owner: { login: 'acme', type: 'Organization' },
    package_version: {
      id: 88210442,
      version: 'sha256:4f1c2b3a5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3',
      container_metadata: {
        tag: { name: '1.4.0', digest: 'sha256:4f1c2b3a5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3' },
      },
      package_url: 'ghcr.io/acme/api:1.4.0',
    },
    registry: {
      about_url: 'https://docs.github.com/packages',
      name: 'GitHub Container Registry',
      type: 'docker',
      url: 'https://ghcr.io',
      vendor: 'GitHub Inc',
    },
  },
  repository: { full_name: 'acme/api' },
  sender: { login: 'github-actions[bot]' },
};

export const githubRegistryPackageNpm = {
  action: 'published',
  registry_package: {
    id: 991,
    name: 'web-kit',
    namespace: 'acme',
    ecosystem: 'npm',
    package_type: 'npm',
    owner: { login: 'acme' },
    package_version: { version: '2.0.1', package_url: 'npm.pkg.github.com/@acme/web-kit@2.0.1' },
  },
};

export const gitlabPush = {
  object_kind: 'push',
  event_name: 'push',
  before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
  after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  ref: 'refs/heads/main',
  user_username: 'jdoe',
  project_id: 15,
  project: {
    id: 15,
    name: 'api',
    web_url: 'https://gitlab.example.com/acme/platform/api',
    git_ssh_url: 'git@gitlab.example.com:acme/platform/api.git',
    git_http_url: 'https://gitlab.example.com/acme/platform/api.git',
    namespace: 'platform',
    path_with_namespace: 'acme/platform/api',
    default_branch: 'main',
  },
  repository: {
    name: 'api',
    url: 'git@gitlab.example.com:acme/platform/api.git',
    homepage: 'https://gitlab.example.com/acme/platform/api',
    git_http_url: 'https://gitlab.example.com/acme/platform/api.git',
    git_ssh_url: 'git@gitlab.example.com:acme/platform/api.git',
  },
  commits: [],
  total_commits_count: 1,
};

export const gitlabMergeRequest = {
  object_kind: 'merge_request',
  event_type: 'merge_request',
  project: { id: 15, web_url: 'https://gitlab.example.com/acme/platform/api' },
  object_attributes: { iid: 7, state: 'opened' },
};

export const giteaPush = {
  ref: 'refs/tags/v1.4.0',
  before: '0000000000000000000000000000000000000000',
  after: 'c2d9f0a1b2c3d4e5f60718293a4b5c6d7e8f9012',
  compare_url: 'https://gitea.example.com/acme/api/compare/main...v1.4.0',
  commits: [],
  repository: {
    id: 42,
    owner: { id: 3, login: 'acme' },
    name: 'api',
    full_name: 'acme/api',
    html_url: 'https://gitea.example.com/acme/api',
    ssh_url: 'git@gitea.example.com:acme/api.git',
    clone_url: 'https://gitea.example.com/acme/api.git',
    default_branch: 'main',
  },
  pusher: { login: 'jdoe' },
  sender: { login: 'jdoe' },
};

export const bitbucketDataCenterPush = {
  eventKey: 'repo:refs_changed',
  date: '2025-03-11T10:01:12+0100',
  actor: { name: 'jdoe', emailAddress: 'jdoe@example.com', id: 101, slug: 'jdoe', type: 'NORMAL' },
  repository: {
    slug: 'api',
    id: 311,
    name: 'api',
    scmId: 'git',
    state: 'AVAILABLE',
    forkable: true,
    project: { key: 'PLAT', id: 12, name: 'Platform', type: 'NORMAL' },
    public: false,
    links: {
      clone: [
        { href: 'ssh://git@bitbucket.example.com:7999/plat/api.git', name: 'ssh' },
        { href: 'https://bitbucket.example.com/scm/plat/api.git', name: 'http' },
      ],
      self: [{ href: 'https://bitbucket.example.com/projects/PLAT/repos/api/browse' }],
    },
  },
  changes: [
    {
      ref: { id: 'refs/heads/main', displayId: 'main', type: 'BRANCH' },
      refId: 'refs/heads/main',
      fromHash: '1b2c3d4e5f60718293a4b5c6d7e8f90123456789',
      toHash: '2c3d4e5f60718293a4b5c6d7e8f901234567890a',
      type: 'UPDATE',
    },
  ],
};

export const bitbucketCloudPush = {
  push: {
    changes: [
      {
        new: { type: 'branch', name: 'main', target: { hash: '7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f708192' } },
        old: { type: 'branch', name: 'main', target: { hash: '6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7081' } },
        created: false,
        forced: false,
      },
    ],
  },
  repository: {
    type: 'repository',
    full_name: 'acme/api',
    name: 'api',
    uuid: '{5b0f6a2e-3c1d-4e7f-9a8b-0c1d2e3f4a5b}',
    links: {
      self: { href: 'https://api.bitbucket.org/2.0/repositories/acme/api' },
      html: { href: 'https://bitbucket.org/acme/api' },
    },
  },
  actor: { display_name: 'J. Doe', type: 'user' },
};

export const dockerHubPush = {
  callback_url: 'https://registry.hub.docker.com/u/acme/api/hook/2c1f0e9d8b7a6f5e4d3c2b1a0/',
  push_data: { pushed_at: 1741687964, pusher: 'acmebot', tag: '1.4.0' },
  repository: {
    comment_count: 0,
    date_created: 1700000000,
    description: 'The Acme API',
    is_official: false,
    is_private: true,
    is_trusted: false,
    name: 'api',
    namespace: 'acme',
    owner: 'acme',
    repo_name: 'acme/api',
    repo_url: 'https://hub.docker.com/r/acme/api',
    star_count: 3,
    status: 'Active',
  },
};

export const harborPush = {
  type: 'PUSH_ARTIFACT',
  occur_at: 1741687964,
  operator: 'robot$ci',
  event_data: {
    resources: [
      {
        digest: 'sha256:0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b',
        tag: '2.1.0',
        resource_url: 'harbor.example.com/team/app:2.1.0',
      },
    ],
    repository: {
      date_created: 1700000000,
      name: 'app',
      namespace: 'team',
      repo_full_name: 'team/app',
      repo_type: 'private',
    },
  },
};

export const harborCloudEventPush = {
  specversion: '1.0',
  id: '4b1c7e0a-5d2f-4c3e-9a1b-2c3d4e5f6a7b',
  source: '/projects/3/webhook/policies/7',
  type: 'harbor.artifact.pushed',
  datacontenttype: 'application/json',
  time: '2025-03-11T10:12:44Z',
  operator: 'robot$ci',
  data: {
    resources: [{ digest: 'sha256:1f2e', tag: '2.2.0', resource_url: 'harbor.example.com/team/app:2.2.0' }],
    repository: { name: 'app', namespace: 'team', repo_full_name: 'team/app', repo_type: 'private' },
  },
};

export const harborPull = {
  type: 'PULL_ARTIFACT',
  occur_at: 1741687999,
  operator: 'robot$deployer',
  event_data: {
    resources: [{ digest: 'sha256:0a9b', tag: '2.1.0', resource_url: 'harbor.example.com/team/app:2.1.0' }],
    repository: { name: 'app', namespace: 'team', repo_full_name: 'team/app', repo_type: 'private' },
  },
};

export const quayPush = {
  repository: 'acme/api',
  namespace: 'acme',
  name: 'api',
  docker_url: 'quay.io/acme/api',
  homepage: 'https://quay.io/repository/acme/api',
  updated_tags: ['1.4.0', 'latest'],
};

export const quayBuildQueued = {
  repository: 'acme/api',
  namespace: 'acme',
  name: 'api',
  docker_url: 'quay.io/acme/api',
  homepage: 'https://quay.io/repository/acme/api/build/5d7e',
  build_id: '5d7e8f90-1a2b-3c4d-5e6f-7a8b9c0d1e2f',
  trigger_kind: 'github',
  is_manual: false,
};

const manifestEvent = (action: string, tag?: string) => ({
  id: `evt-${action}-${tag ?? 'none'}`,
  timestamp: '2025-03-11T10:14:02.118Z',
  action,
  target: {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 1402,
    digest: 'sha256:7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b',
    length: 1402,
    repository: 'team/app',
    url: 'http://registry.example.com:5000/v2/team/app/manifests/sha256:7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b',
    ...(tag ? { tag } : {}),
  },
  request: {
    id: 'f1d2c3b4-a596-4877-8899-aabbccddeeff',
    addr: '10.0.0.7:51234',
    host: 'registry.example.com:5000',
    method: action === 'push' ? 'PUT' : 'GET',
    useragent: 'docker/27.3.1 go/go1.22.7',
  },
  actor: {},
  source: { addr: 'registry-0:5000', instanceID: '2b9c7b1e-7d9e-4c39-8f7f-1f0d5e3a9c21' },
});

export const distributionPush = { events: [manifestEvent('push', '1.0.0')] };
export const distributionPull = { events: [manifestEvent('pull'), manifestEvent('pull')] };
