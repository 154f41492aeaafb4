/**
 * The base of every library's error tree (kafkajs style): a class per failure, named after it, saying whether
 * trying the same call again may succeed (`retriable`) and keeping what was thrown underneath (`cause`). Callers
 * branch on the class or on `retriable`, never on the message. Each library derives its own base from it
 * (StingerKafkaError, BpfError, LocalBrokerError, …) and adds the fields its callers need.
 */
export interface StingerErrorOptions {
  /** Default false: a failure is taken as lasting unless its thrower knows better. */
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class StingerError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: StingerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}
