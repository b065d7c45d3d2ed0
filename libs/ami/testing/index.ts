export * from './fixtures';
export * from './fake-ami-server';
