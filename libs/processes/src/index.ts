export { isAlive, commandLineOf, signalProcess, pollUntilGone, settlesWithin, readFileTail } from './processes.ts';
export { isPortFree, freePort, freePorts } from './ports.ts';
