// The logging interface every component receives through its constructor. pino's Logger satisfies it;
// tests pass a silent or recording implementation. This module is a leaf: it imports nothing.

type LogFn = (obj: object, msg?: string) => void;

/** Structured logger: the first argument carries fields, the second the message. Never log secrets. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
