export * from './envelope';
export * from './tables';
export * from './outbox';
export * from './streams';
export * from './bus';
export * from './relay';
export * from './consumer';
export * from './dead-letters';
