/** A `${{ }}` expression that cannot be parsed or evaluated; the message says what and where. */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}
