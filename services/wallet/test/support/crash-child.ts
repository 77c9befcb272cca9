/**
 * The wallet as a real process for the crash test (test/checkout-kill.test.ts): started with
 * `node --import tsx`, migrated and listening, it prints `READY <url>` on stdout. With
 * WALLET_CRASH_AFTER=<saga step> it kills itself with SIGKILL right after that step has committed:
 * no finally block, no shutdown hook, no flushed buffer runs after it, as in a power cut.
 */
import { createApp } from '../../src/app';
import type { SagaStep } from '../../src/services/checkout.service';

const crashAfter = process.env.WALLET_CRASH_AFTER as SagaStep | undefined;
const app = createApp(process.env, {
  hooks: {
    afterStep: (step) => {
      if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
    },
  },
});
await app.migrate();
const { url } = await app.start();
process.stdout.write(`READY ${url}\n`);
