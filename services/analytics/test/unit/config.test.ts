import { describe, expect, it } from 'vitest';
import { ConfigError } from '@membergraph/platform';
import { loadAnalyticsConfig } from '../../src/config';

describe('analytics config', () => {
  it('defaults to port 4005 and its own database', () => {
    expect(loadAnalyticsConfig({})).toMatchObject({ PORT: 4005, DB_NAME: 'membergraph_analytics', EVENT_MAX_ATTEMPTS: 5 });
  });

  it('fails fast on a bad attempt limit', () => {
    expect(() => loadAnalyticsConfig({ EVENT_MAX_ATTEMPTS: '0' })).toThrow(ConfigError);
  });
});
