import { describe, expect, it } from 'vitest';
import { ConfigError } from '@membergraph/platform';
import { loadMarketingConfig } from '../../src/config';

describe('marketing config', () => {
  it('defaults to port 4004, its own database and a 10 yuan WELCOME coupon valid 30 days', () => {
    expect(loadMarketingConfig({})).toMatchObject({ PORT: 4004, DB_NAME: 'membergraph_marketing', WELCOME_COUPON_AMOUNT: 1000, WELCOME_COUPON_VALID_DAYS: 30 });
  });

  it('fails fast on a WELCOME coupon that could not be a template', () => {
    expect(() => loadMarketingConfig({ WELCOME_COUPON_AMOUNT: '0' })).toThrow(ConfigError);
    expect(() => loadMarketingConfig({ WELCOME_COUPON_VALID_DAYS: '3651' })).toThrow(/WELCOME_COUPON_VALID_DAYS/);
  });

  it('lets a checkout hold a coupon 15 minutes and sweeps lapsed locks every 30 s by default', () => {
    expect(loadMarketingConfig({})).toMatchObject({ LOCK_TTL_SECONDS: 900, LOCK_SWEEP_INTERVAL_MS: 30_000, LOCK_SWEEP_BATCH: 500 });
    expect(loadMarketingConfig({ LOCK_SWEEP_INTERVAL_MS: '0' }).LOCK_SWEEP_INTERVAL_MS).toBe(0);
    expect(() => loadMarketingConfig({ LOCK_TTL_SECONDS: '0' })).toThrow(/LOCK_TTL_SECONDS/);
  });
});
