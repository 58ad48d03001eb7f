// The Worker entry: the Worker as production runs it, on the system clock.
import { createWorker } from './worker';

export default createWorker();
