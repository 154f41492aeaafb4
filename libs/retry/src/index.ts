// @stinger/retry: exponential back-off with jitter (backoffDelay) and a step retried until done (untilDone).
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { untilDone, type UntilDoneOptions } from './until-done.ts';
export { StingerError, type StingerErrorOptions } from './stinger-error.ts';
