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
    /** Promotion worker tuning. */
    worker?: {
      /** Promotions (of different stages) run at once by this backend instance. Default 4. */
      concurrency?: number;
    };
  };
}
