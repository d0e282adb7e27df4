import pino, { type Logger } from 'pino';

/** Structured logs; credentials are redacted even if a future log line carries them by mistake. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tagway' },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'req.headers.authorization',
          'req.headers.cookie',
          'clientSecret',
          '*.clientSecret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
