export * from './fixtures';
export * from './fake-ami-server';
export * from './fake-ami-timers';
