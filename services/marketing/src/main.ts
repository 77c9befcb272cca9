import { runMain } from '@membergraph/platform/main';

await runMain('marketing', () => import('./app'));
