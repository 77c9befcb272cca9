/**
 * Operator CLI for dead letters: `npm run dlq -- list [limit]` and `npm run dlq -- replay <seq>`.
 * Uses NATS_URL and NATS_PREFIX like the services.
 */
import { Bus, createLogger, listDeadLetters, replayDeadLetter } from '@membergraph/platform';

const [command, arg] = process.argv.slice(2);
const bus = await Bus.connect({
  url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  prefix: process.env.NATS_PREFIX ?? '',
  name: 'dlq-cli',
  log: createLogger('dlq', 'warn'),
});
try {
  if (command === 'list') {
    const letters = await listDeadLetters(bus, { limit: Number(arg ?? 50) });
    if (!letters.length) console.log('no dead letters');
    for (const l of letters) {
      console.log(`#${l.seq} ${l.time.toISOString()} ${l.consumer} ${l.originalSubject} attempts=${l.attempts}\n    ${l.reason}`);
    }
  } else if (command === 'replay' && arg && /^\d+$/.test(arg)) {
    await replayDeadLetter(bus, Number(arg));
    console.log(`replayed #${arg}`);
  } else {
    console.error('usage: npm run dlq -- list [limit] | replay <seq>');
    process.exitCode = 2;
  }
} finally {
  await bus.close();
}
