import { runMain } from '@membergraph/platform/main';

await runMain('wallet', () => import('./app'));
