import { runMain } from '@membergraph/platform/main';

await runMain('points', () => import('./app'));
