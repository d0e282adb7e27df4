import { describe, expect, it } from 'vitest';
import { redactNatsUrl } from '../../../src/cluster/redact.js';

describe('redactNatsUrl', () => {
  it('hides the password of a NATS URL and leaves one without a password alone', () => {
    expect(redactNatsUrl('nats://tagway:s3cret@10.0.0.5:4222')).toBe('nats://tagway:***@10.0.0.5:4222');
    expect(redactNatsUrl('tls://nats.example:4222')).toBe('tls://nats.example:4222');
  });
});
