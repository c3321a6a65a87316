export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the coordinator and workers report; one line per call. */
export type Logger = (level: LogLevel, message: string) => void;

/** The default logger: warnings and errors to stderr, the rest dropped. */
export const defaultLogger: Logger = (level, message) => {
  if (level === 'warn' || level === 'error') console.error(`[dataparallel] ${level}: ${message}`);
};

/** A logger that drops everything. */
export const silentLogger: Logger = () => {};
