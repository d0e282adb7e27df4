import { describe, expect, it } from 'vitest';
import { natsConnectionOptions, redactNatsUrl } from '../../../src/cluster/redact.js';

describe('redactNatsUrl', () => {
  it('hides the password of a NATS URL and leaves one without a password alone', () => {
    expect(redactNatsUrl('nats://tagway:s3cret@10.0.0.5:4222')).toBe('nats://tagway:***@10.0.0.5:4222');
    expect(redactNatsUrl('tls://nats.example:4222')).toBe('tls://nats.example:4222');
  });

  it('hides a token and the passwords of every server of a list', () => {
    expect(redactNatsUrl('nats://t0ken@10.0.0.5:4222')).toBe('nats://***@10.0.0.5:4222');
    expect(redactNatsUrl('nats://a:p1@h1:4222,nats://a:p2@h2:4222')).toBe('nats://a:***@h1:4222,nats://a:***@h2:4222');
  });
});

describe('natsConnectionOptions', () => {
  it('splits user and password (percent-decoded) or a token off the server URLs', () => {
    expect(natsConnectionOptions('nats://tagway:s%40cret@10.0.0.5:4222')).toEqual({
      servers: ['nats://10.0.0.5:4222'],
      user: 'tagway',
      pass: 's@cret',
    });
    expect(natsConnectionOptions('nats://t0ken@h:4222')).toEqual({ servers: ['nats://h:4222'], token: 't0ken' });
    expect(natsConnectionOptions('nats://h1:4222, nats://u:p@h2:4222')).toEqual({
      servers: ['nats://h1:4222', 'nats://h2:4222'],
      user: 'u',
      pass: 'p',
    });
    expect(natsConnectionOptions('nats://127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'] });
  });
});
