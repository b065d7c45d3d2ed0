export * from './readiness';
export * from './call.model';
export * from './messaging.errors';
export * from './messaging-library';
export * from './messaging-library.decorator';
export * from './messaging.module-definition';
export * from './messaging.registry';
export * from './messaging.module';
