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
    };
  };
}
