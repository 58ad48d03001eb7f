// A controllable clock handed to the Worker through env (see clockFrom in src/env.ts): time moves when
// the test says so, never by sleeping.
import type { Clock } from '../../src/lib/clock';
import { testEnv } from './worker';

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

/** This file's env with the Worker reading time from `clock`. */
export function envWithClock(clock: Clock, overrides: Partial<Env> = {}): Env {
  return { ...testEnv(overrides), CLOCK: clock } as Env;
}
