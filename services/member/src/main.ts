import { runMain } from '@membergraph/platform/main';

await runMain('member', () => import('./app'));
