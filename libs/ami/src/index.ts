export * from './ami.errors';
