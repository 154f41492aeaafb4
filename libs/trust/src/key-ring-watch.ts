/**
 * The trusted keys of a running verifier (agent, detector, enforcer), re-read from the keys directory every
 * `intervalMs`, so a rotation — `stinger keys rotate`, or a new Secret mounted in a cluster — needs no restart.
 * A directory that cannot be read keeps the previous ring (logged); an empty ring is warned about, since every
 * signed input is then refused.
 */
import { namespaced, type Logger } from '@stinger/log';
import { readKeyRing, TRUSTED_DIR, type KeyRing } from './keys.ts';

export interface KeyRingWatch {
  current(): KeyRing;
  stop(): void;
}

export function watchKeyRing(options: { readonly dir: string; readonly logger: Logger; readonly intervalMs?: number }): KeyRingWatch {
  const logger = namespaced(options.logger, 'KeyRing');
  let ring: KeyRing = new Map();
  const refresh = (): void => {
    try {
      const next = readKeyRing(options.dir);
      if ([...next.keys()].join() !== [...ring.keys()].join()) {
        if (next.size === 0) logger.warn({ dir: `${options.dir}/${TRUSTED_DIR}` }, 'no trusted keys: signed policies and commands are refused (run `stinger keys generate`)');
        else logger.info({ keys: [...next.keys()], dir: options.dir }, 'trusted keys');
      }
      ring = next;
    } catch (error) {
      logger.error({ err: error }, 'trusted keys not re-read; the previous ones stay in force');
    }
  };
  refresh();
  if (ring.size === 0) logger.warn({ dir: `${options.dir}/${TRUSTED_DIR}` }, 'no trusted keys: signed policies and commands are refused (run `stinger keys generate`)');
  const timer = setInterval(refresh, options.intervalMs ?? 10_000);
  timer.unref();
  return { current: () => ring, stop: () => clearInterval(timer) };
}
