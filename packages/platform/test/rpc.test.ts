import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus, callRequest, conflict, createLogger, serveRequests } from '../src/index';
import { natsUrl, testId } from '@membergraph/testkit';

const log = createLogger('test', 'silent');
let bus: Bus;

beforeAll(async () => {
  bus = await Bus.connect({ url: natsUrl(), prefix: `t${testId()}.`, name: 'rpc-test', log });
});
afterAll(async () => {
  await bus.close();
});

describe('request/reply', () => {
  it('answers through a queue group, once per request even with two responders', async () => {
    let calls = 0;
    const handler = async (req: { a: number; b: number }) => {
      calls++;
      return { sum: req.a + req.b };
    };
    const subs = [serveRequests(bus, 'rpc.test.add', handler, log), serveRequests(bus, 'rpc.test.add', handler, log)];
    await bus.nc.flush();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => callRequest<{ a: number; b: number }, { sum: number }>(bus, 'rpc.test.add', { a: i, b: 1 })));
    expect(results.map((r) => r.sum)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(calls).toBe(10);
    subs.forEach((s) => s.unsubscribe());
  });

  it('carries a business error code back to the caller and hides internal errors', async () => {
    const sub = serveRequests(bus, 'rpc.test.fail', async (req: { kind: string }) => {
      if (req.kind === 'conflict') throw conflict('already done');
      throw new Error('SELECT * FROM secrets failed');
    }, log);
    await bus.nc.flush();
    await expect(callRequest(bus, 'rpc.test.fail', { kind: 'conflict' })).rejects.toMatchObject({ message: 'already done', extensions: { code: 'CONFLICT' } });
    await expect(callRequest(bus, 'rpc.test.fail', { kind: 'boom' })).rejects.toMatchObject({ message: 'Internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    sub.unsubscribe();
  });

  it('fails fast when nobody answers', async () => {
    await expect(callRequest(bus, 'rpc.test.nobody', {}, 2_000)).rejects.toThrow();
  });
});
