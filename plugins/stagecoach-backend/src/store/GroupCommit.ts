import { Knex } from 'knex';

type Work = (tx: Knex.Transaction) => Promise<unknown>;

interface Pending {
  work: Work;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit: units of work submitted while a transaction is being written are run
 * together in the next one, so many small writes (one per discovered warehouse) cost one
 * commit (one fsync) instead of one each. No timer: a lone unit starts at once; batches
 * only form under load.
 *
 * Each unit is all-or-nothing. When a batch fails, its units are run again one transaction
 * each, so one bad unit fails alone and never takes the others' writes with it.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly knex: Knex,
    private readonly maxBatch = 200,
  ) {}

  /** Runs `work` in a transaction shared with other units submitted meanwhile. */
  run<T>(work: (tx: Knex.Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        // the loop settles every unit itself; nothing can escape it
        void this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        if (batch.length === 1 || !(await this.runTogether(batch))) {
          for (const unit of batch) await this.runAlone(unit);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** True when the batch committed and every unit was resolved. */
  private async runTogether(batch: Pending[]): Promise<boolean> {
    let results: unknown[];
    try {
      results = await this.knex.transaction(async tx => {
        const out: unknown[] = [];
        for (const unit of batch) out.push(await unit.work(tx));
        return out;
      });
    } catch {
      return false;
    }
    batch.forEach((unit, i) => unit.resolve(results[i]));
    return true;
  }

  private async runAlone(unit: Pending): Promise<void> {
    try {
      unit.resolve(await this.knex.transaction(tx => unit.work(tx)));
    } catch (e) {
      unit.reject(e);
    }
  }
}
