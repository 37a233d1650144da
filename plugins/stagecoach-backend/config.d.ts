export interface Config {
  stagecoach?: {
    /**
     * Pipelines applied when the backend starts, each a multi-document YAML file of
     * Kargo-format Warehouse and Stage manifests. Relative paths are resolved from the
     * backend's working directory.
     */
    manifests?: Array<{
      /** The project the manifests belong to (their metadata.namespace, if set, must match). */
      project: string;
      file: string;
    }>;
    /** Folder for promotion work directories and discovery caches. Default: the OS temp folder. */
    workDir?: string;
    /** The identity of the commits that promotions make. */
    gitClient?: {
      name?: string;
      email?: string;
    };
    /**
     * Projects' own credentials: the Secrets labelled `kargo.akuity.io/cred-type` (git, helm,
     * image, generic) in a project's manifests, used by that project's discovery and promotions
     * before the credentials configured here and in `integrations`.
     */
    credentials?: {
      /**
       * The key they are stored with (AES-256-GCM): 32 random bytes in base64, such as the
       * output of `openssl rand -base64 32`. Without it, manifests that hold such Secrets are
       * refused. Changing it makes the stored credentials unreadable until the manifests are
       * applied again.
       * @visibility secret
       */
      encryptionKey?: string;
    };
    /** Credentials and transport per image or chart registry host (e.g. ghcr.io, registry-1.docker.io). */
    registries?: Array<{
      host: string;
      username?: string;
      /** @visibility secret */
      password?: string;
      /** A bearer token used as is (instead of username/password). @visibility secret */
      token?: string;
      /** Talk plain HTTP to this host (loopback hosts always do). */
      plainHTTP?: boolean;
      /** At most this many requests per second to this host (Kargo uses 20); default no limit. */
      requestsPerSecond?: number;
    }>;
    /** Inbound webhooks: POST /api/stagecoach/webhooks/{name} refreshes the warehouses that subscribe to what changed. */
    webhooks?: {
      receivers?: Array<{
        name: string;
        /** github | gitlab | gitea | bitbucket | dockerhub | harbor | quay | distribution | generic */
        type: string;
        /** @visibility secret */
        secret: string;
      }>;
    };
    /**
     * Backstage's events service: Git pushes published on it (by the events backend's GitHub,
     * GitLab, Gitea and Bitbucket modules) refresh warehouses as webhooks do, and Stagecoach
     * publishes freight.created, promotion.finished and verification.finished on the topic `stagecoach`.
     */
    events?: {
      /** Subscribe to `topics` and publish on `stagecoach`. Default true. */
      enabled?: boolean;
      /**
       * The topics to read Git pushes from: `github`, `gitlab`, `gitea`, `bitbucketCloud`,
       * `bitbucketServer`, or sub-topics of them such as `github.push`. Default: github.push,
       * github.package, github.registry_package, gitlab.push, gitlab.tag_push, gitea,
       * bitbucketCloud.repo:push, bitbucketServer.repo:refs_changed,
       * bitbucketServer.mirror:repo_synchronized.
       */
      topics?: string[];
    };
    freight?: {
      /**
       * Garbage collection keeps this many of the newest freight per warehouse (default 20);
       * freight that a stage holds or a promotion refers to is always kept.
       */
      keepPerWarehouse?: number;
    };
    /** Promotion worker tuning. */
    worker?: {
      /** Promotions (of different stages) run at once by this backend instance. Default 4. */
      concurrency?: number;
      /**
       * A running promotion's claim lasts this long unless its backend renews it (it does, every
       * quarter of it); a backend that died loses its claims after this. Default 60000.
       */
      claimTtlMs?: number;
      /** Times a promotion is started over after its backend died, before it ends Errored. Default 3. */
      maxAttempts?: number;
    };
    promotions?: {
      /**
       * A new promotion aborts the older pending promotions of its stage ("superseded by ...").
       * Default false: they run in order. A request may ask for it with `supersede: true`.
       */
      supersedePending?: boolean;
      /**
       * The most a step's outputs may take, as JSON, in bytes. Outputs are stored with the
       * promotion and shown to everyone who may read it; a step whose outputs are larger fails,
       * naming this key. Default 1048576 (1 MiB).
       */
      maxOutputBytes?: number;
    };
    /**
     * Where requests that manifests name may go: the `http` and `http-download` steps and the
     * `web` and `prometheus` metrics, every redirect included. Always denied: link-local
     * (169.254.0.0/16, fe80::/10), cloud metadata (169.254.169.254, fd00:ec2::254,
     * 100.100.100.200, metadata.google.internal) and unspecified addresses (0.0.0.0/8, ::);
     * loopback too unless allowLoopback. Private ranges are allowed unless denied here.
     */
    egress?: {
      /** Lift the built-in loopback denial (127.0.0.0/8, ::1, localhost): demos and local development. Default false. */
      allowLoopback?: boolean;
      /**
       * When given, a request must go to one of these: a host name (`git.example.com`, or
       * `*.example.com` for its subdomains) or an address range (`cidr: 10.0.0.0/8`), which
       * is checked against the address actually connected to.
       */
      allow?: Array<{ host?: string; cidr?: string }>;
      /** Denied in addition to the built-in list; deny wins over allow. */
      deny?: Array<{ host?: string; cidr?: string }>;
    };
    /** Git over HTTP(S) and SCM APIs. */
    git?: {
      /**
       * Hosts (`git.internal`, or `git.internal:8080` for one port) whose Backstage
       * `integrations` credentials may be sent over plain http://. Anywhere else, a Git or SCM
       * operation that would send credentials over plain HTTP fails instead. Default none.
       */
      allowInsecureCredentials?: string[];
    };
    /**
     * The Kubernetes clusters Stagecoach talks to: Argo CD Applications (argocd-update,
     * argocd-wait, stage health) and job metrics. Without this, a kubeconfig (KUBECONFIG or
     * ~/.kube/config) or the pod's service account is used when there is one.
     */
    kubernetes?: {
      clusters?: Array<{
        name: string;
        /** The API server, e.g. https://10.0.0.1:6443 */
        url: string;
        /** @visibility secret */
        serviceAccountToken?: string;
        /** The server's CA certificate, base64-encoded PEM. */
        caData?: string;
        skipTLSVerify?: boolean;
      }>;
      /** A kubeconfig file whose contexts become clusters, named by context. */
      kubeconfig?: string;
      /** The cluster used when a step or setting names none. Default: the first one. */
      defaultCluster?: string;
    };
    argocd?: {
      /** The namespace Argo CD's Applications live in, unless a step names another. Default `argocd`. */
      namespace?: string;
      /** Argo CD's UI, for links to apps: https://argocd.example.com */
      url?: string;
      /**
       * The namespaces a catalog entity's `argocd/app-namespace` annotation may name (Applications
       * in any namespace). Default: `namespace` alone.
       */
      namespaces?: string[];
    };
    health?: {
      /** How often every promoted stage's health is checked again, in seconds. Default 30. */
      intervalSeconds?: number;
    };
    /** Pipelines from the catalog: entities annotated `stagecoach.io/pipeline-ref` (docs/pipelines-from-the-catalog.md). */
    catalogPipelines?: {
      /** How often the catalog's pipeline-refs are read again (unchanged sources cost one conditional request), in seconds. Default 60. */
      intervalSeconds?: number;
      /**
       * Projects that exist already (applied through the API or from app-config) and may be taken
       * over by the catalog entity that names them. A project the catalog did not create is
       * otherwise out of its reach: whoever may register an entity must not replace its pipeline.
       */
      adopt?: string[];
    };
    verification?: {
      /**
       * Headers (credentials) sent by web and prometheus metrics to URLs under a prefix: the
       * same scheme, host and port, and the prefix's path segments first in the URL's path
       * (after `.`/`..` are resolved and segments percent-decoded). The longest matching prefix
       * wins, and a header the metric sets itself is kept. A redirect to another origin does
       * not carry them. Their values never appear in what a verification stores or shows.
       */
      credentials?: Array<{
        /** A URL prefix such as https://prometheus.example.com/ */
        url: string;
        /** @visibility secret */
        headers: { [name: string]: string };
      }>;
      /** Verifications advanced side by side by one backend instance. Default 8. */
      concurrency?: number;
      /**
       * The most one measurement's value (a web answer, a query result) may take, in bytes;
       * a larger one is an Error measurement naming this key. Default 65536 (64 KiB).
       */
      maxResultBytes?: number;
      /** Where job metrics run. */
      jobs?: {
        /**
         * Where the jobs of projects not listed in `namespaces` run; `{project}` is replaced by
         * the project's name. Default `{project}` (as Kargo runs them in the project's namespace).
         * A namespace made from a project's name that is protected (`kube-*`, `default`, Argo CD's,
         * `protectedNamespaces`) is refused.
         */
        namespace?: string;
        /** Default: the default cluster. */
        cluster?: string;
        /**
         * Per project, the namespaces its jobs may run in: the first is where they run, and a job
         * metric may name another of them in `provider.job.metadata.namespace`.
         */
        namespaces?: Array<{ project: string; namespaces: string[] }>;
        /** Per project, the service accounts its job pods may name (besides `default`, which gets no token). */
        serviceAccounts?: Array<{ project: string; names: string[] }>;
        /** More namespaces a project's name may never make into a job namespace. */
        protectedNamespaces?: string[];
      };
    };
  };
}
