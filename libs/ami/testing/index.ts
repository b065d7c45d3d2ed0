export * from './fixtures';
export * from './fake-ami-server';
export * from './fake-ami-timers';
export * from './trace-ami-peer';
export * from './tls-cert';
