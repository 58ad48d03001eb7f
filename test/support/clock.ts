// A controllable clock the Worker is built with (createWorker({ clock }) in src/worker.ts): time moves
// when the test says so, never by sleeping.
import type { Clock } from '../../src/lib/clock';
import { createWorker } from '../../src/worker';
import { serveEnvWith, testEnv } from './worker';

export interface FakeClock extends Clock {
  advance(seconds: number): void;
  set(date: Date): void;
}

export function fakeClock(start: Date = new Date()): FakeClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(seconds) {
      current += seconds * 1000;
    },
    set(date) {
      current = date.getTime();
    },
  };
}

/** This file's env, served (by callWorker and workerFor) by a Worker that reads time from `clock`. */
export function envWithClock(clock: Clock, overrides: Partial<Env> = {}): Env {
  const env = { ...testEnv(overrides) };
  serveEnvWith(env, createWorker({ clock }));
  return env;
}
