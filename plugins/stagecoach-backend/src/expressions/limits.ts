import { ExpressionError } from './errors';

/**
 * What one evaluation of an expression may spend, so that no expression can stall the
 * event loop or eat the backend's memory (`repeat("x", 1e9)`, `map(1..1e6, 1..1e6)`).
 */
export const LIMITS = {
  /** Syntax nodes evaluated, predicates' elements counted each time. */
  steps: 1_000_000,
  /** The longest string a built-in or `+` may build, in characters. */
  stringLength: 1 << 20,
  /** The most elements an array (a range, `map`, `split`, ...) may have. */
  items: 100_000,
  /** Characters and elements built in all, over the whole evaluation. */
  allocated: 16 << 20,
} as const;

/** The spending of one evaluation. */
export class Budget {
  private steps = 0;
  private allocated = 0;

  step(): void {
    if (++this.steps > LIMITS.steps) {
      throw new ExpressionError(`the expression takes more than ${LIMITS.steps} evaluation steps`);
    }
  }

  /** Before building a string of `length` characters. */
  string(length: number, what: string): void {
    if (length > LIMITS.stringLength) {
      throw new ExpressionError(`${what} would be ${length} characters long; the most is ${LIMITS.stringLength}`);
    }
    this.spend(length, what);
  }

  /** Before building an array of `count` elements. */
  items(count: number, what: string): void {
    if (count > LIMITS.items) {
      throw new ExpressionError(`${what} would have ${count} elements; the most is ${LIMITS.items}`);
    }
    this.spend(count, what);
  }

  private spend(n: number, what: string): void {
    this.allocated += n;
    if (this.allocated > LIMITS.allocated) {
      throw new ExpressionError(`${what}: the expression builds more than ${LIMITS.allocated} characters and elements in all`);
    }
  }
}
