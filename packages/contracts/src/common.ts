import { z } from 'zod';

export const isoTime = z.string().datetime({ offset: true });
export const channel = z.enum(['STORE', 'WEB', 'APP', 'MINI_PROGRAM', 'SOCIAL', 'EVENT', 'IMPORT']);
export const id = z.string().min(1);
