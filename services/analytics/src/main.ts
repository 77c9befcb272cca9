import { runMain } from '@membergraph/platform/main';

await runMain('analytics', () => import('./app'));
