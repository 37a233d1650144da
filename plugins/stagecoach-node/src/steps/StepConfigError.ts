/**
 * A step's configuration is wrong, or asks for something that retrying cannot change (a path
 * outside the work directory, a host the egress policy refuses): the step fails at once
 * instead of counting the error against its `retry.errorThreshold`. The message is shown to
 * the developer as it is, so it names the field and what is wrong with it.
 *
 * @public
 */
export class StepConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepConfigError';
  }
}
